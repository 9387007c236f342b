import { ExitCode } from '../protocol/engine-events';
import { formatBytes } from './disk/size-spec';
import { EngineError, stderrTail } from './errors';
import type { Emit } from './events';
import type { Size } from './target-size';

/** The rings must hold at least one input and one output frame; a frame that alone passes the budget is refused. */
export function checkFrameMemory(
  inBytes: number,
  outBytes: number,
  budgetBytes: number,
  size: Size,
  path: string,
): void {
  if (inBytes + outBytes <= budgetBytes) return;
  throw new EngineError(
    ExitCode.badInput,
    'frame-too-large',
    `${path}: a ${size.width}×${size.height} frame needs ${formatBytes(inBytes + outBytes)} in memory (input + ×4 output), over the frame buffer budget of ${formatBytes(budgetBytes)}`,
    'raise --buffer-mb if the machine has the memory, or downscale the input first',
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
