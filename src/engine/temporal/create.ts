import type { PixelParams } from '../checkpoint/manifest';
import type { FrameStage, FrameUpscaler } from '../pipeline-types';
import type { TemporalParts } from './resume-prime';
import { REUSE_DEFAULTS, type ReuseOptions, ReuseUpscaler } from './reuse-upscaler';
import type { TemporalStrength } from './strength';
import { TemporalStage } from './temporal-stage';

export interface TemporalSettings {
  strength: TemporalStrength;
  reuse: boolean;
  reuseOptions?: ReuseOptions;
  maxBytes?: number;
}

/** The enhance arguments that set the temporal parts (args.ts's EnhanceArgs has them). */
export interface TemporalArgs {
  temporal: TemporalStrength;
  reuse: boolean;
  reuseThreshold?: number;
  refreshEvery?: number;
}

export function temporalSettings(a: TemporalArgs): TemporalSettings {
  const reuseOptions: ReuseOptions = {};
  if (a.reuseThreshold !== undefined) reuseOptions.threshold = a.reuseThreshold;
  if (a.refreshEvery !== undefined) reuseOptions.refreshEvery = a.refreshEvery;
  return { strength: a.temporal, reuse: a.reuse, reuseOptions };
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

/** Everything here that changes output pixels, for the checkpoint's pixel parameters (a resume must match). */
export function temporalPixelParams(s: TemporalSettings): PixelParams {
  const r = { ...REUSE_DEFAULTS, ...s.reuseOptions };
  return {
    temporal: s.strength,
    reuse: s.reuse,
    ...(s.reuse && {
      reuseTile: r.tile,
      reusePad: r.pad,
      reuseThreshold: r.threshold,
      reuseRefreshEvery: r.refreshEvery,
      reuseWholeFrameAbove: r.wholeFrameAbove,
    }),
  };
}
