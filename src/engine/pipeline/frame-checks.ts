import { ExitCode } from '../../protocol/engine-events';
import { formatBytes } from '../../protocol/format';
import { EngineError, stderrTail } from '../errors';
import type { Emit } from '../events';
import { simdBlendBytes } from '../temporal/blend-simd';
import type { TemporalParts } from '../temporal/resume-prime';
import { DEFAULT_TEMPORAL_MAX_BYTES } from '../temporal/temporal-stage';
import { splitBudget } from './frame-ring';
import type { Size } from './target-size';

export interface FrameMemoryRequest {
  inBytes: number;
  outBytes: number;
  /** Model output frames alive outside the rings (see heldOutputBytes). */
  heldBytes: number;
  budgetBytes: number;
  /** The model's input frame size and the source, for the message. */
  size: Size;
  path: string;
}

/**
 * Bytes of model output alive outside the rings: the frame the model is filling, the one the encoder is writing,
 * the reuse wrapper's previous output and the temporal history (at most its window, within its own cap).
 */
export function heldOutputBytes(outBytes: number, temporal?: TemporalParts): number {
  const history = temporal?.stage ? Math.min(temporal.stage.primeFrames * outBytes, DEFAULT_TEMPORAL_MAX_BYTES) : 0;
  return (2 + (temporal?.reuse ? 1 : 0)) * outBytes + history;
}

/**
 * The SIMD blend's copies of the frames (blend-simd.ts), 0 where the stage has no SIMD blend; at an integer scale
 * only (other scales blend without a plan).
 */
export function simdHeldBytes(outBytes: number, scale: number, temporal?: TemporalParts): number {
  const stage = temporal?.stage;
  if (!stage?.simd || !Number.isInteger(scale)) return 0;
  return simdBlendBytes(outBytes, scale, stage.primeFrames);
}

/**
 * Frames each ring holds at most, whatever the budget: enough to keep the decoder, the model and the encoder busy
 * across a segment switch (the encoder restarts), and no more. A budget sized in bytes alone let a small job's rings
 * fill the whole budget (a 218×160 source at ×4 kept ~600 frames, over 1 GiB) with frames nobody was waiting for.
 */
export const RING_MAX_FRAMES = 16;

/**
 * All the frame memory stays inside the frame-buffer budget: what is held outside the rings comes off it first and
 * the rest is split between the rings (so both hold the same number of frames, at most RING_MAX_FRAMES). Refused
 * when not even one input and one output frame fit beside it: a 4K source at ×4 makes 398 MB frames, and that is
 * what the budget pays for.
 */
export function planFrameMemory(r: FrameMemoryRequest): [number, number] {
  const need = r.inBytes + r.outBytes + r.heldBytes;
  const ringBytes = Math.min(r.budgetBytes - r.heldBytes, RING_MAX_FRAMES * (r.inBytes + r.outBytes));
  if (need <= r.budgetBytes) return splitBudget(ringBytes, r.inBytes, r.outBytes);
  throw new EngineError(
    ExitCode.badInput,
    'frame-too-large',
    `${r.path}: a ${r.size.width}×${r.size.height} frame needs ${formatBytes(need)} in memory (the input and its ` +
      `${formatBytes(r.outBytes)} model output in the buffer, plus ${formatBytes(r.heldBytes)} of outputs being made, ` +
      `encoded or kept for reuse), over the frame buffer budget of ${formatBytes(r.budgetBytes)}`,
    `raise --buffer-mb to ${Math.ceil(need / 2 ** 20)} if the machine has the memory, or choose a smaller target`,
  );
}

/**
 * ffmpeg exits 0 on a file cut off mid-stream, after the frames it could read: a source that ends well before the
 * frame count its container declares, with decode errors on the way, is damaged, and a silently shorter video is
 * not a result. Short without errors (an edit list trimming a lossless cut) is only a warning.
 */
export function checkDecodedAll(end: number, expected: number, path: string, decodeErrors: string, emit: Emit): void {
  if (end >= Math.floor(expected * 0.98) - 1) return;
  if (!decodeErrors.trim()) {
    emit({
      type: 'warning',
      code: 'frame-count-differs',
      message: `the input has ${end} frames, its container declares ${expected}`,
    });
    return;
  }
  throw new EngineError(
    ExitCode.badInput,
    'input-truncated',
    `the input ended after ${end} of ${expected} frames: ${path} is truncated or damaged (${stderrTail(decodeErrors, 1)})`,
    `repair or re-download it; to keep the readable part, run with --max-frames ${Math.max(1, end)}`,
  );
}
