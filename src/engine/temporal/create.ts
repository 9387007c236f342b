import type { PixelParams } from '../checkpoint/manifest';
import type { FrameStage, FrameUpscaler } from '../frame-stage';
import { BlendGraph, type BlendPath, blendGraphProviders, blendPathFor, GraphBlendStage } from './blend-graph';
import { FlowPrefetch } from './flow-prefetch';
import { GRAIN_VERSION } from './grain-gate';
import { DEFAULT_MOTION, MOTION_VERSION, MotionEstimator, type MotionMode } from './motion';
import type { TemporalParts } from './resume-prime';
import { REUSE_DEFAULTS, type ReuseOptions, ReuseUpscaler } from './reuse-upscaler';
import type { TemporalStrength } from './strength';
import { TemporalStage } from './temporal-stage';

export interface TemporalSettings {
  strength: TemporalStrength;
  reuse: boolean;
  reuseOptions?: ReuseOptions;
  maxBytes?: number;
  /** Follow motion with optical flow (default) or blend/reuse only what stayed put. */
  motion?: MotionMode;
  /** The model's execution provider: the blend runs as a graph on it when it is a GPU (blend-graph.ts). */
  provider?: string;
  /** Where the per-output-pixel blend runs, overriding blendPathFor(provider) (tests and the blend bench). */
  blendPath?: BlendPath;
  /** Compute upcoming frames' flows in a worker thread (flow-prefetch.ts); default on. */
  prefetch?: boolean;
}

/** The enhance arguments that set the temporal parts (args.ts's EnhanceArgs has them). */
export interface TemporalArgs {
  temporal: TemporalStrength;
  reuse: boolean;
  reuseThreshold?: number;
  refreshEvery?: number;
  motion?: MotionMode;
}

export function temporalSettings(a: TemporalArgs): TemporalSettings {
  const reuseOptions: ReuseOptions = {};
  if (a.reuseThreshold !== undefined) reuseOptions.threshold = a.reuseThreshold;
  if (a.refreshEvery !== undefined) reuseOptions.refreshEvery = a.refreshEvery;
  return { strength: a.temporal, reuse: a.reuse, reuseOptions, motion: a.motion ?? DEFAULT_MOTION };
}

/**
 * The pipeline's view of the temporal settings: the upscaler to call (the model, wrapped for tile reuse when on)
 * and the stages to run after it (none for `--temporal off`, so that output is exactly the model's).
 */
export function createTemporal(model: FrameUpscaler, s: TemporalSettings): TemporalParts & { stages: FrameStage[] } {
  // One estimator for both: they look at the same pair of frames, and it computes each flow once.
  const motion = (s.motion ?? DEFAULT_MOTION) === 'flow' ? new MotionEstimator() : undefined;
  const reuse = s.reuse ? new ReuseUpscaler(model, s.reuseOptions, motion) : undefined;
  const stage =
    s.strength === 'off'
      ? undefined
      : new TemporalStage({
          strength: s.strength,
          maxBytes: s.maxBytes,
          motion,
          unchanged: reuse && ((output) => reuse.unchangedTiles(output)),
        });
  const graph = (s.blendPath ?? blendPathFor(s.provider)) === 'graph';
  const run = stage && graph ? new GraphBlendStage(stage, new BlendGraph(blendGraphProviders(s.provider))) : stage;
  const flows = motion && (reuse || stage) && s.prefetch !== false ? prefetchFor(motion, reuse, stage) : undefined;
  return { upscaler: reuse ?? model, reuse, stage, flows, stages: run ? [run] : [] };
}

/** The flows the parts will ask for: the blend stage uses both directions, the reuse wrapper the backward one. */
function prefetchFor(motion: MotionEstimator, reuse: ReuseUpscaler | undefined, stage: TemporalStage | undefined) {
  const every = reuse?.opts.refreshEvery ?? 0;
  return new FlowPrefetch(motion, {
    back: true,
    fwd: !!stage,
    skip: stage ? undefined : (index) => every > 0 && index % every === 0,
  });
}

/** Everything here that changes output pixels, for the checkpoint's pixel parameters (a resume must match). */
export function temporalPixelParams(s: TemporalSettings): PixelParams {
  const r = { ...REUSE_DEFAULTS, ...s.reuseOptions };
  const motion = s.motion ?? DEFAULT_MOTION;
  const follows = motion === 'flow' && (s.reuse || s.strength !== 'off');
  return {
    temporal: s.strength,
    reuse: s.reuse,
    ...(follows && { temporalMotion: MOTION_VERSION }),
    ...(s.reuse && {
      reuseTile: r.tile,
      reusePad: r.pad,
      reuseThreshold: r.threshold,
      reuseRefreshEvery: r.refreshEvery,
      reuseWholeFrameAbove: r.wholeFrameAbove,
    }),
    ...(s.reuse &&
      follows && { reuseShiftMaxAge: r.shiftMaxAge, reuseShiftTolerance: r.shiftTolerance, reuseGrain: GRAIN_VERSION }),
  };
}
