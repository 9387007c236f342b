import { join } from 'node:path';
import { RANGES_DIR } from '../checkpoint/workdir';
import type { RangeSpec } from './farm-args';

export { rangeName } from './farm-args';

/**
 * A run of whole segments of one job: frames [startFrame, endFrame). A range runs on its own (farm/run-range.ts),
 * with the temporal state primed from the frames before `startFrame` exactly as a resume primes it, and keeps its
 * segments in its own checkpoint folder until the join collects them (farm/collect-ranges.ts).
 */
export interface FrameRange extends RangeSpec {
  startFrame: number;
  /** One past its last frame; the job's last range runs to the end of the job (the decoder's end). */
  endFrame: number;
}

/** Cuts `total` frames (the probe's count) into at most `count` ranges of whole segments, as even as segments allow. */
export function planRanges(total: number, segmentFrames: number, count: number): FrameRange[] {
  const segments = Math.max(1, Math.ceil(total / segmentFrames));
  const n = Math.max(1, Math.min(count, segments));
  const ranges: FrameRange[] = [];
  let first = 0;
  for (let i = 0; i < n; i++) {
    const end = Math.round(((i + 1) * segments) / n);
    ranges.push(rangeOf({ firstSegment: first, endSegment: end, last: i === n - 1 }, segmentFrames, total));
    first = end;
  }
  return ranges;
}

/** The frames of a range of segments of a job of `total` frames. */
export function rangeOf(spec: RangeSpec, segmentFrames: number, total: number): FrameRange {
  return {
    ...spec,
    startFrame: spec.firstSegment * segmentFrames,
    endFrame: spec.last ? total : spec.endSegment * segmentFrames,
  };
}

export function rangeDir(workDir: string, r: Pick<FrameRange, 'firstSegment'>): string {
  return join(workDir, RANGES_DIR, `r-${String(r.firstSegment).padStart(6, '0')}`);
}

/** Where every range of the job in `workDir` keeps its checkpoint. */
export function rangesDir(workDir: string): string {
  return join(workDir, RANGES_DIR);
}
