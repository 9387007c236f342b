import type { PixelParams } from '../checkpoint/manifest';
import type { FrameStage, FrameUpscaler } from '../frame-stage';
import { BlendGraph, type BlendPath, blendGraphProviders, blendPathFor, GraphBlendStage } from './blend-graph';
import { blendPoolThreads } from './blend-pool';
import { FlowPrefetch } from './flow-prefetch';
import { GRAIN_VERSION } from './grain-gate';
import { DEFAULT_MOTION, MOTION_VERSION, MotionEstimator, type MotionMode } from './motion';
import { closeWorkers, type TemporalParts } from './resume-prime';
import { REUSE_DEFAULTS, type ReuseOptions, ReuseUpscaler } from './reuse-upscaler';
import type { TemporalStrength } from './strength';
import { TemporalStage } from './temporal-stage';
import { WarpWorker } from './warp-worker';

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
  /** The optical flow's finest refined level, in pixels (optical-flow.ts's `finestPixels`; 0 or unset: every level). */
  flowFinestPixels?: number;
}

/**
 * Flows of planes larger than this are refined down to a level of at most this many pixels and upsampled from there
 * (960×540 → 480×270; a 640×352 plane keeps every level). `HUAJU4K_FLOW_FINEST_PIXELS` overrides it (0: every
 * level) — the quality bench measures the method on its small clips that way.
 */
export const FLOW_FINEST_PIXELS = 2 ** 18;

export function flowFinestPixels(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.HUAJU4K_FLOW_FINEST_PIXELS;
  const n = text === undefined || text === '' ? FLOW_FINEST_PIXELS : Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`HUAJU4K_FLOW_FINEST_PIXELS must be a whole number of pixels (0: every level), not "${text}"`);
  return n;
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
  const motion = a.motion ?? DEFAULT_MOTION;
  return { strength: a.temporal, reuse: a.reuse, reuseOptions, motion, flowFinestPixels: flowFinestPixels() };
}

/**
 * The pipeline's view of the temporal settings: the upscaler to call (the model, wrapped for tile reuse when on)
 * and the stages to run after it (none for `--temporal off`, so that output is exactly the model's).
 */
export function createTemporal(model: FrameUpscaler, s: TemporalSettings): TemporalParts & { stages: FrameStage[] } {
  // One estimator for both: they look at the same pair of frames, and it computes each flow once.
  const flow = { finestPixels: s.flowFinestPixels ?? 0 };
  const motion = (s.motion ?? DEFAULT_MOTION) === 'flow' ? new MotionEstimator(flow) : undefined;
  const reuse = s.reuse ? new ReuseUpscaler(model, s.reuseOptions, motion) : undefined;
  const graph = (s.blendPath ?? blendPathFor(s.provider)) === 'graph';
  // Both blend paths split their work (split()): the motion plan in the worker, the blend after the next frame's split.
  const warps = motion && s.strength !== 'off' && s.prefetch !== false ? new WarpWorker() : undefined;
  const stage =
    s.strength === 'off'
      ? undefined
      : new TemporalStage({
          strength: s.strength,
          maxBytes: s.maxBytes,
          motion,
          unchanged: reuse && ((output) => reuse.unchangedTiles(output)),
          warps,
          // The blend graph carries its blends out on its own device.
          blendThreads: graph ? 0 : blendPoolThreads(),
        });
  const run = stage && graph ? new GraphBlendStage(stage, new BlendGraph(blendGraphProviders(s.provider))) : stage;
  const flows = motion && (reuse || stage) && s.prefetch !== false ? prefetchFor(motion, reuse, stage) : undefined;
  return { upscaler: reuse ?? model, reuse, stage, flows, warps, stages: run ? [run] : [] };
}

type Temporal = ReturnType<typeof createTemporal>;

/**
 * Fresh temporal parts for each run of an engine that runs several (a farm's range engine, farm/range-server.ts):
 * no state of one run reaches the next. The previous parts are let go first: their flow workers stopped, their
 * blend graph's sessions released.
 */
export function temporalFactory(model: FrameUpscaler, s: TemporalSettings): () => Promise<Temporal> {
  let last: Temporal | undefined;
  return async () => {
    if (last) {
      closeWorkers(last);
      for (const stage of last.stages) if (stage instanceof GraphBlendStage) await stage.graph.release();
    }
    last = createTemporal(model, s);
    return last;
  };
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

/**
 * Everything here that changes output pixels, for the checkpoint's pixel parameters (a resume must match), for
 * frames of `pixels` pixels (the flow's finest level matters only above its limit: below it the flows are as before).
 */
export function temporalPixelParams(s: TemporalSettings, pixels: number): PixelParams {
  const r = { ...REUSE_DEFAULTS, ...s.reuseOptions };
  const motion = s.motion ?? DEFAULT_MOTION;
  const follows = motion === 'flow' && (s.reuse || s.strength !== 'off');
  const finest = s.flowFinestPixels ?? 0;
  const flowVersion = finest > 0 && pixels > finest ? `${MOTION_VERSION}, finest level ${finest} px` : MOTION_VERSION;
  return {
    temporal: s.strength,
    reuse: s.reuse,
    ...(follows && { temporalMotion: flowVersion }),
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
