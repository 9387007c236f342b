import { statSync } from 'node:fs';
import type { JobManifest } from '../checkpoint/manifest';
import { checkDisk, type DiskEstimate, type DiskLimits, freeBytes } from './guard';

/** Room kept for the manifest and filesystem block rounding on top of the open segment's expected size. */
const MANIFEST_MARGIN_BYTES = 8 * 1024;

export interface SegmentGuardOptions {
  dir: string;
  manifest: JobManifest;
  /** The open segment's file, while one is being written. */
  openSegment: () => string | undefined;
  estimate: DiskEstimate;
  segmentFrames: number;
  limits: DiskLimits;
}

/**
 * Before each frame goes to the encoder: would the rest of the open segment (plus the manifest) still fit? Throws
 * the disk-budget / disk-full stop when not. Counts the recorded segments' sizes and the open segment's file,
 * without listing the folder each time.
 */
export function segmentDiskGuard(o: SegmentGuardOptions): () => void {
  let segmentBytesGuess = o.estimate.bytesPerFrame * o.segmentFrames;
  const jobBytesNow = () => {
    let bytes = 0;
    for (const s of o.manifest.segments) bytes += s.bytes;
    const open = o.openSegment();
    if (open) {
      try {
        bytes += statSync(open).size;
      } catch {
        // not created yet
      }
    }
    return bytes;
  };
  return () => {
    const last = o.manifest.segments.at(-1);
    if (last) segmentBytesGuess = Math.max(last.bytes, Math.round((last.bytes / last.frames) * o.segmentFrames));
    const margin = Math.round(segmentBytesGuess * 1.5) + MANIFEST_MARGIN_BYTES;
    const saved = o.manifest.segments.length > 0;
    const stop = checkDisk(jobBytesNow(), freeBytes(o.dir), margin, o.limits, saved, o.dir);
    if (stop) throw stop;
  };
}
