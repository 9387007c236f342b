import type { FrameUpscaler, PipelineFrame } from '../frame-stage';
import type { Size } from '../pipeline/target-size';
import type { FlowPrefetch } from './flow-prefetch';
import type { ReuseUpscaler } from './reuse-upscaler';
import type { TemporalStage } from './temporal-stage';
import type { WarpWorker } from './warp-worker';

/** The temporal parts of a run whose state a resume must rebuild. */
export interface TemporalParts {
  /** What the pipeline calls: the reuse wrapper when reuse is on, else the model itself. */
  upscaler: FrameUpscaler;
  reuse?: ReuseUpscaler;
  stage?: TemporalStage;
  /** The flows of upcoming frame pairs, computed in a worker while earlier frames are in the model (--motion flow). */
  flows?: FlowPrefetch;
  /** The motion blend's low-res plan, computed in a worker while the next frame is upscaled (--motion flow). */
  warps?: WarpWorker;
}

/** Stops the parts' worker threads (the run's end, a failure, a cancel); a later frame would start them again. */
export function closeWorkers(parts: TemporalParts | undefined): void {
  parts?.flows?.close();
  parts?.warps?.close();
  parts?.stage?.stopThreads();
}

/**
 * First low-res frame a resume at `resumeAt` must decode again. The temporal window needs the last `primeFrames`
 * frames, and the reuse wrapper must start at one of its forced refreshes at or before the window's first frame —
 * otherwise the window's outputs would come from a different reuse state than in the uninterrupted run. Frames
 * before the returned index cannot influence any output from `resumeAt` on.
 */
export function primeStartFor(resumeAt: number, parts: TemporalParts): number {
  if (resumeAt <= 0) return 0;
  const windowStart = Math.max(0, resumeAt - (parts.stage?.primeFrames ?? 0));
  const start = parts.reuse ? parts.reuse.primeStart(windowStart + 1) : windowStart;
  return Math.max(0, Math.min(start, windowStart));
}

/**
 * Rebuilds the cross-frame state before frame `resumeAt`: frames from primeStartFor() on go through the
 * (reuse-wrapped) model exactly as in a normal run, and the last `primeFrames` of them prime the temporal stage.
 * Their outputs are dropped (already encoded before the interruption). Consumes exactly `resumeAt − start` frames
 * of `frames` with next() — never return() — so a decoder iterator stays open, positioned at `resumeAt`.
 * Returns how many frames were fed.
 */
export async function primeForResume(
  frames: AsyncIterator<{ data: Buffer }>,
  start: number,
  resumeAt: number,
  size: Size,
  parts: TemporalParts,
): Promise<number> {
  if (resumeAt <= start) return 0;
  parts.reuse?.seek(start);
  const keep = parts.stage?.primeFrames ?? 0;
  const scale = parts.upscaler.scale;
  const window: PipelineFrame[] = [];
  for (let index = start; index < resumeAt; index++) {
    const next = await frames.next();
    if (next.done) throw new RangeError(`temporal prime: the frames ended at ${index}, before ${resumeAt}`);
    const output = await parts.upscaler.upscale(next.value.data, size.width, size.height);
    if (index >= resumeAt - keep) {
      window.push({
        index,
        input: next.value.data,
        inputSize: size,
        output,
        outputSize: { width: size.width * scale, height: size.height * scale },
      });
    }
  }
  parts.stage?.prime(window);
  return resumeAt - start;
}
