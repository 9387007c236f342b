import type { DecodedFrame } from '../decoder';
import type { PipelineFrame } from '../pipeline';
import type { Size } from '../target-size';
import type { TemporalParts } from '../temporal/resume-prime';

/**
 * First frame a resume at `resumeAt` must decode again. The temporal window needs the last `primeFrames` frames,
 * and the reuse wrapper must start at one of its forced refreshes — at or before the window's first frame, or
 * the window's outputs would be computed from a different reuse state than in the uninterrupted run.
 * (temporal/resume-prime.ts's primeStartFor takes the minimum of the two starts, which can land between refreshes;
 * this is the aligned version.)
 */
export function resumePrimeStart(resumeAt: number, parts: TemporalParts): number {
  if (resumeAt <= 0) return 0;
  const windowStart = Math.max(0, resumeAt - (parts.stage?.primeFrames ?? 0));
  const start = parts.reuse ? parts.reuse.primeStart(windowStart + 1) : windowStart;
  return Math.max(0, Math.min(start, windowStart));
}

/**
 * Rebuilds the cross-frame state before frame `resumeAt`: frames from resumePrimeStart() on go through the
 * (reuse-wrapped) model exactly as in a normal run, and the last `primeFrames` of them prime the temporal stage.
 * Their outputs are dropped (already encoded before the interruption). Consumes exactly `resumeAt − start` frames
 * of `it`, leaving the decoder positioned at `resumeAt`.
 */
export async function primeTemporalState(
  it: AsyncIterator<DecodedFrame>,
  start: number,
  resumeAt: number,
  size: Size,
  parts: TemporalParts,
): Promise<void> {
  if (resumeAt <= start) return;
  parts.reuse?.seek(start);
  const keep = parts.stage?.primeFrames ?? 0;
  const scale = parts.upscaler.scale;
  const window: PipelineFrame[] = [];
  for (let index = start; index < resumeAt; index++) {
    const next = await it.next();
    if (next.done) throw new RangeError(`temporal prime: the decoder ended at frame ${index}, before ${resumeAt}`);
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
}
