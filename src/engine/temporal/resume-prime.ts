import type { FrameUpscaler } from '../pipeline';
import type { Size } from '../target-size';
import type { ReuseUpscaler } from './reuse-upscaler';
import type { TemporalStage } from './temporal-stage';

/** The temporal parts of a run whose state a resume must rebuild. */
export interface TemporalParts {
  /** What the pipeline calls: the reuse wrapper when reuse is on, else the model itself. */
  upscaler: FrameUpscaler;
  reuse?: ReuseUpscaler;
  stage?: TemporalStage;
}

/**
 * First low-res frame a resume at `resumeIndex` has to read again: far enough back for the reuse wrapper (its
 * last forced refresh) and for the temporal window. Frames before it cannot influence any output from
 * `resumeIndex` on.
 */
export function primeStartFor(resumeIndex: number, parts: TemporalParts): number {
  let start = resumeIndex;
  if (parts.reuse) start = Math.min(start, parts.reuse.primeStart(resumeIndex));
  if (parts.stage) start = Math.min(start, resumeIndex - parts.stage.primeFrames);
  return Math.max(0, start);
}

/**
 * Rebuilds the temporal state before resuming at `resumeIndex`: `frames` are the decoded low-res frames from
 * primeStartFor(resumeIndex) up to resumeIndex − 1, in order. They go through the model (through the reuse
 * wrapper, which mostly reuses) and the temporal stage exactly as in a normal run; their outputs are dropped,
 * already encoded before the interruption. Afterwards the next frame comes out byte-identical to an
 * uninterrupted run's. Returns how many frames were fed.
 */
export async function primeForResume(
  resumeIndex: number,
  frames: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  inputSize: Size,
  parts: TemporalParts,
): Promise<number> {
  const start = primeStartFor(resumeIndex, parts);
  parts.reuse?.seek(start);
  const primed = [];
  const keep = parts.stage?.primeFrames ?? 0;
  let index = start;
  for await (const input of frames) {
    if (index >= resumeIndex) break;
    const output = await parts.upscaler.upscale(input, inputSize.width, inputSize.height);
    if (index >= resumeIndex - keep) {
      const s = parts.upscaler.scale;
      primed.push({
        index,
        input: Buffer.from(input.buffer, input.byteOffset, input.byteLength),
        inputSize,
        output,
        outputSize: { width: inputSize.width * s, height: inputSize.height * s },
      });
    }
    index++;
  }
  if (index !== resumeIndex) {
    throw new RangeError(`temporal prime: got frames ${start}..${index - 1}, need ${start}..${resumeIndex - 1}`);
  }
  parts.stage?.prime(primed);
  return index - start;
}
