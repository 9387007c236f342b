import { copyFileSync, linkSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../protocol/engine-events';
import { framesDone, type JobManifest, readManifest, writeManifest } from '../checkpoint/manifest';
import { segmentName } from '../checkpoint/workdir';
import { EngineError } from '../errors';
import { type FrameRange, rangeDir, rangeName, rangesDir } from './ranges';

/** Ranges whose checkpoint says every frame of theirs is encoded. */
export function finishedRanges(workDir: string, ranges: readonly FrameRange[]): Set<string> {
  const done = new Set<string>();
  for (const r of ranges) if (readManifest(rangeDir(workDir, r))?.decodedAll) done.add(rangeName(r));
  return done;
}

/**
 * The ranges still to run, in the order they are handed out: the most frames left first (job order among equals).
 * The last ranges the workers take are then the short ones, so the workers finish close together (longest processing
 * time first); in job order, ranges of 8 and 7 segments alternate and on 4 workers one ends a range (16 segments)
 * later than the others (15).
 */
export function rangesToRun(workDir: string, ranges: readonly FrameRange[]): FrameRange[] {
  const done = finishedRanges(workDir, ranges);
  const left = (r: FrameRange) => r.endFrame - r.startFrame - rangeFrames(workDir, r);
  return ranges
    .filter((r) => !done.has(rangeName(r)))
    .map((r) => ({ r, left: left(r) }))
    .sort((a, b) => b.left - a.left)
    .map(({ r }) => r);
}

/** Frames a range's checkpoint holds now (0 when it has none yet). */
export function rangeFrames(workDir: string, r: FrameRange): number {
  try {
    const m = readManifest(rangeDir(workDir, r));
    return m ? framesDone(m) : 0;
  } catch {
    return 0;
  }
}

export function framesByRange(workDir: string, ranges: readonly FrameRange[]): Map<string, number> {
  return new Map(ranges.map((r) => [rangeName(r), rangeFrames(workDir, r)]));
}

/** Frames the ranges of the job in `workDir` keep in finished segments (what a cancel of a farm job keeps). */
export function framesInRanges(workDir: string): number {
  let names: string[];
  try {
    names = readdirSync(rangesDir(workDir)).filter((n) => n.startsWith('r-'));
  } catch {
    return 0;
  }
  let frames = 0;
  for (const n of names) {
    try {
      const m = readManifest(join(rangesDir(workDir), n));
      frames += m ? framesDone(m) : 0;
    } catch {
      // an unreadable range keeps nothing
    }
  }
  return frames;
}

/**
 * Moves every range's segments into the job's checkpoint, numbered as one uninterrupted run numbers them, and marks
 * the job as fully decoded: what is left is the join of a local run (pipeline.ts joinVerified), and a crash after this
 * point resumes as a local job whose frames are all encoded. Files are linked (copied where the storage cannot link)
 * before the manifest names them, and the ranges removed after it is written, so no crash loses a segment.
 */
export function collectRanges(workDir: string, job: JobManifest, ranges: readonly FrameRange[]): void {
  if (job.decodedAll) return;
  job.segments = [];
  let next = 0;
  let endedEarly: string | undefined;
  for (const r of ranges) {
    const m = readManifest(rangeDir(workDir, r));
    if (!m?.decodedAll) {
      throw new EngineError(
        ExitCode.failure,
        'farm-range-missing',
        `range ${rangeName(r)} of ${job.output} is not finished (${m ? framesDone(m) : 0} frames in ${rangeDir(workDir, r)})`,
        `run the job again with --resume to finish it`,
      );
    }
    if (endedEarly && m.segments.length > 0) {
      throw new EngineError(
        ExitCode.failure,
        'farm-range-gap',
        `range ${endedEarly} ended before its last frame, yet range ${rangeName(r)} has frames`,
        'delete the work folder and start over',
      );
    }
    for (const s of m.segments) {
      const index = job.segments.length;
      const file = segmentName(index);
      linkOrCopy(join(rangeDir(workDir, r), s.file), join(workDir, file));
      job.segments.push({ ...s, index, startFrame: next, file });
      next += s.frames;
    }
    if (!r.last && framesDone(m) < r.endFrame - r.startFrame) endedEarly = rangeName(r);
  }
  job.decodedAll = true;
  job.totalFrames = next;
  writeManifest(workDir, job);
  rmSync(rangesDir(workDir), { recursive: true, force: true });
}

function linkOrCopy(from: string, to: string): void {
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}
