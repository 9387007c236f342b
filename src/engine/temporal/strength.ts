import { TEMPORAL_STRENGTHS } from '../../protocol/cli-options';

export { TEMPORAL_STRENGTHS };

export type TemporalStrength = (typeof TEMPORAL_STRENGTHS)[number];
export const DEFAULT_TEMPORAL_STRENGTH: TemporalStrength = 'medium';

/** How a strength blends: a window of past outputs, their weights, and how tolerant the change mask is. */
export interface TemporalParams {
  /** Frames blended, the current one included (1 = no blending). */
  window: number;
  /** Weight of the output k frames back is decay^k (the current frame has weight 1). */
  decay: number;
  /** Low-res luma change (3×3 mean of |Δ|, 0..255) below which a pixel is fully static … */
  staticBelow: number;
  /** … and above which it is fully moving (linear in between). */
  movingAbove: number;
}

const PARAMS: Record<TemporalStrength, TemporalParams> = {
  off: { window: 1, decay: 0, staticBelow: 0, movingAbove: 1 },
  low: { window: 2, decay: 0.7, staticBelow: 1.5, movingAbove: 4 },
  medium: { window: 4, decay: 0.85, staticBelow: 2, movingAbove: 6 },
  high: { window: 6, decay: 0.95, staticBelow: 3, movingAbove: 8 },
};

export function temporalParams(strength: TemporalStrength): TemporalParams {
  return PARAMS[strength];
}

export function isTemporalStrength(text: string): text is TemporalStrength {
  return (TEMPORAL_STRENGTHS as readonly string[]).includes(text);
}
