import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../protocol/engine-events';
import type { AudioTreatment } from '../audio/audio-treatment';
import { EngineError } from '../errors';

export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_FORMAT = 'huaju4k-job';
export const MANIFEST_VERSION = 1;
/** The bound; a manifest of this size would mean ~100k segments, far past any real job. */
export const MANIFEST_MAX_BYTES = 10 * 2 ** 20;

export interface InputIdentity {
  path: string;
  sizeBytes: number;
  mtimeMs: number;
  /** sha256 over the size and three 1 MiB samples (start, middle, end): cheap on a 50 GB file, catches edits. */
  fingerprint: string;
}

export interface SegmentRecord {
  index: number;
  startFrame: number;
  frames: number;
  bytes: number;
  /** File name inside the work folder. */
  file: string;
  /** sha256 of the file as recorded: a segment damaged in place (same size) is found on resume and redone. */
  sha256?: string;
  /**
   * Source timestamps of the segment's first and last frame, in the video stream's time base: set on a job that
   * keeps every frame's time (a VFR source); the join places each segment by them (join.ts).
   */
  firstPts?: number;
  lastPts?: number;
}

export interface JobManifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  createdAt: string;
  updatedAt: string;
  input: InputIdentity;
  output: string;
  /** The enhance argv (without --resume/--json) that `huaju4k resume` reruns. */
  args: string[];
  /** sha256 of `params`: everything that changes the output's pixels or bitstream. */
  paramsHash: string;
  params: PixelParams;
  segmentFrames: number;
  /** Frames the job will have (from the probe; exact once `decodedAll` is set). */
  totalFrames: number;
  segments: SegmentRecord[];
  /** Set when the decoder reached the end and every frame is in a segment: only the join is left. */
  decodedAll?: boolean;
  /** --audio clean|stage: the levels measured once for the job and the filter set from them (the join runs it). */
  audio?: AudioTreatment;
}

/** Every setting that changes the pixels or the bitstream. Values are plain JSON so the hash is stable. */
export type PixelParams = Record<string, string | number | boolean | null>;

export function framesDone(m: Pick<JobManifest, 'segments'>): number {
  return m.segments.reduce((n, s) => n + s.frames, 0);
}

function corrupt(dir: string, why: string): EngineError {
  return new EngineError(
    ExitCode.badInput,
    'checkpoint-corrupt',
    `the checkpoint in ${dir} is unreadable (${why})`,
    'delete that folder to start over',
  );
}

/** Reads and checks the manifest: shape, version, contiguous segments. Undefined when there is none. */
export function readManifest(dir: string): JobManifest | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, MANIFEST_NAME), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw corrupt(dir, (err as Error).message);
  }
  let m: JobManifest;
  try {
    m = JSON.parse(text) as JobManifest;
  } catch (err) {
    throw corrupt(dir, (err as Error).message);
  }
  if (m?.format !== MANIFEST_FORMAT || m.version !== MANIFEST_VERSION) throw corrupt(dir, 'unknown format');
  if (!Array.isArray(m.segments) || !m.input || typeof m.paramsHash !== 'string') throw corrupt(dir, 'missing fields');
  let next = 0;
  for (const [i, s] of m.segments.entries()) {
    if (s.index !== i || s.startFrame !== next || !(s.frames > 0)) throw corrupt(dir, `segment ${i} out of order`);
    next += s.frames;
  }
  return m;
}

/**
 * Temp file, fsync, rename, fsync of the folder: a crash at any point leaves either the old manifest or the new
 * one, never a torn file. A full disk fails the temp write and the old manifest stays.
 */
export function writeManifest(dir: string, m: JobManifest): void {
  const text = `${JSON.stringify({ ...m, updatedAt: new Date().toISOString() }, null, 1)}\n`;
  const bytes = Buffer.from(text);
  if (bytes.length > MANIFEST_MAX_BYTES) throw new Error(`manifest would be ${bytes.length} bytes`);
  const tmp = join(dir, `${MANIFEST_NAME}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(dir, MANIFEST_NAME));
  } catch (err) {
    rmSync(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new EngineError(
        ExitCode.disk,
        'disk-full',
        `disk full while saving the checkpoint in ${dir}; the previous checkpoint is intact`,
        'free some space, then resume with --resume',
      );
    }
    throw err;
  }
  syncDir(dir);
}

/** sha256 of a whole file, read in 1 MiB chunks. */
export function fileSha256(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(2 ** 20);
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
  }
}
