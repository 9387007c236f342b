import type { FrameStage, FrameUpscaler } from '../pipeline';
import type { TemporalParts } from './resume-prime';
import { type ReuseOptions, ReuseUpscaler } from './reuse-upscaler';
import type { TemporalStrength } from './strength';
import { TemporalStage } from './temporal-stage';

export interface TemporalSettings {
  strength: TemporalStrength;
  reuse: boolean;
  reuseOptions?: ReuseOptions;
  maxBytes?: number;
}

/**
 * The pipeline's view of the temporal settings: the upscaler to call (the model, wrapped for tile reuse when on)
 * and the stages to run after it (none for `--temporal off`, so that output is exactly the model's).
 */
export function createTemporal(model: FrameUpscaler, s: TemporalSettings): TemporalParts & { stages: FrameStage[] } {
  const reuse = s.reuse ? new ReuseUpscaler(model, s.reuseOptions) : undefined;
  const stage = s.strength === 'off' ? undefined : new TemporalStage({ strength: s.strength, maxBytes: s.maxBytes });
  return { upscaler: reuse ?? model, reuse, stage, stages: stage ? [stage] : [] };
}
