import { statfsSync } from 'node:fs';
import { ExitCode } from '../../protocol/engine-events';
import { formatBytes } from '../../protocol/format';
import { EngineError } from '../errors';
import type { EncoderSettings } from '../ffmpeg/encoder';
import type { Size } from '../pipeline/target-size';
import type { BudgetSpec } from './size-spec';

export const DEFAULT_MULTIPLE = 4;
/** Tiny inputs (test clips, short phone videos) would get a budget below one 4K segment; never go under this. */
export const MIN_DEFAULT_BUDGET_BYTES = 2 ** 30;
export const DEFAULT_RESERVE_BYTES = 2 * 2 ** 30;

export interface DiskLimits {
  budgetBytes: number;
  reserveBytes: number;
}

export function resolveBudget(spec: BudgetSpec | undefined, inputBytes: number): number {
  if (spec && 'bytes' in spec) return spec.bytes;
  const multiple = spec ? spec.multiple : DEFAULT_MULTIPLE;
  const bytes = Math.ceil(multiple * inputBytes);
  return spec ? bytes : Math.max(MIN_DEFAULT_BUDGET_BYTES, bytes);
}

export function freeBytes(dir: string): number {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return 0;
  }
}

/**
 * Bits per pixel a CRF encode of upscaled video lands at, roughly: upscaled frames are smooth, so x264 CRF 18
 * gives ~0.08 bpp at 4K (measured on the test clips and sample.mp4; real film grain can double it). Each 6 CRF
 * steps halve the size; x265 is ~40% smaller at the same CRF-ish quality.
 */
export function bitsPerPixel(s: EncoderSettings): number {
  const crf = s.crf ?? (s.codec === 'libx265' ? 20 : 18);
  const base = s.codec === 'libx265' || s.codec === 'hevc_nvenc' ? 0.05 : 0.08;
  return base * 2 ** ((18 - crf) / 6);
}

export interface DiskEstimate {
  outputBytes: number;
  /** Peak bytes the job holds: all segments plus the joined output while the join runs. */
  peakBytes: number;
  bytesPerFrame: number;
}

export function estimateDisk(target: Size, frames: number, settings: EncoderSettings): DiskEstimate {
  const bytesPerFrame = Math.ceil((target.width * target.height * bitsPerPixel(settings)) / 8);
  const outputBytes = bytesPerFrame * frames;
  return { outputBytes, peakBytes: 2 * outputBytes, bytesPerFrame };
}

const KNOBS =
  'raise --crf (smaller files), use --encoder libx265, raise --disk-budget, lower --disk-reserve, or free space';

/**
 * Refuses a job that cannot fit before a single frame is decoded. `remaining` = peak bytes still to be written;
 * `dir`: the folder whose disk it is (named in the message: on a farm, each host's own view of it).
 */
export function precheckDisk(
  est: DiskEstimate,
  remaining: number,
  held: number,
  free: number,
  l: DiskLimits,
  dir?: string,
): void {
  if (held + remaining > l.budgetBytes) {
    throw new EngineError(
      ExitCode.disk,
      'disk-budget',
      `this job needs about ${formatBytes(held + remaining)} of disk (output ≈ ${formatBytes(est.outputBytes)}, and as much again while the segments are joined); the budget is ${formatBytes(l.budgetBytes)}`,
      KNOBS,
    );
  }
  if (free - remaining < l.reserveBytes) {
    throw new EngineError(
      ExitCode.disk,
      'disk-space',
      `not enough free disk${dir ? ` in ${dir}` : ''}: the job needs about ${formatBytes(remaining)} more (output ≈ ${formatBytes(est.outputBytes)}), ${formatBytes(free)} is free and ${formatBytes(l.reserveBytes)} must stay free`,
      KNOBS,
    );
  }
}

/**
 * In-run check: stop before the job's bytes cross the budget or free space falls under the reserve. `margin` is
 * what may still land before the next check (the rest of the open segment); stopping early keeps the checkpoint
 * intact and the stop clean. `saved`: whether a finished segment is kept (else the message must not promise one).
 */
export function checkDisk(
  jobBytes: number,
  free: number,
  margin: number,
  l: DiskLimits,
  saved = true,
  dir?: string,
): EngineError | undefined {
  const kept = saved
    ? { said: 'progress is saved', next: 'then resume with --resume' }
    : { said: 'nothing is saved yet (no segment was finished)', next: 'then run it again' };
  if (jobBytes + margin > l.budgetBytes) {
    return new EngineError(
      ExitCode.disk,
      'disk-budget',
      `stopped: the job holds ${formatBytes(jobBytes)} and would pass its disk budget of ${formatBytes(l.budgetBytes)}; ${kept.said}`,
      `raise --disk-budget (or --crf), ${kept.next}`,
    );
  }
  if (free - margin < l.reserveBytes) {
    return new EngineError(
      ExitCode.disk,
      'disk-reserve',
      `stopped: only ${formatBytes(free)} free${dir ? ` on the disk of ${dir}` : ''}, and ${formatBytes(l.reserveBytes)} must stay free; ${kept.said}`,
      `free some space (or lower --disk-reserve), ${kept.next}`,
    );
  }
  return undefined;
}
