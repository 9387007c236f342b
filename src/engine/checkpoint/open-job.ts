import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';
import { diffParams, inputMismatch, paramsHash } from './fingerprint';
import {
  fileSha256,
  type InputIdentity,
  type JobManifest,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type PixelParams,
  readManifest,
  type SegmentRecord,
  writeManifest,
} from './manifest';
import { discardUntrusted, lockWorkDir, refuseIfRunning, unlockWorkDir } from './workdir';

export interface OpenJobOptions {
  dir: string;
  output: string;
  input: InputIdentity;
  params: PixelParams;
  segmentFrames: number;
  totalFrames: number;
  args: string[];
  /** Continue the checkpoint in `dir` (refused when input or params differ); without it an existing one is refused. */
  resume: boolean;
}

export interface OpenedJob {
  manifest: JobManifest;
  resumed: boolean;
  /** Files in the work folder the checkpoint did not vouch for, removed (partial segments...). */
  discarded: string[];
  /** The first recorded segment whose file was missing, resized or damaged, and why: dropped with all after it. */
  dropped?: { count: number; file: string; why: string };
}

/** What is wrong with a recorded segment's file, or undefined when it is the one recorded. */
function segmentProblem(dir: string, s: SegmentRecord): string | undefined {
  try {
    const bytes = statSync(join(dir, s.file)).size;
    if (bytes !== s.bytes) return `changed size (${s.bytes} → ${bytes} bytes)`;
    if (s.sha256 && fileSha256(join(dir, s.file)) !== s.sha256)
      return 'damaged (its content differs from the recorded hash)';
    return undefined;
  } catch {
    return 'missing';
  }
}

/** Keeps the recorded segments up to the first whose file is gone, changed size or is damaged (by its hash). */
function keepIntactSegments(dir: string, m: JobManifest): OpenedJob['dropped'] {
  let why: string | undefined;
  const bad = m.segments.findIndex((s) => {
    why = segmentProblem(dir, s);
    return why !== undefined;
  });
  if (bad < 0 || !why) return undefined;
  const dropped = { count: m.segments.length - bad, file: m.segments[bad].file, why };
  m.segments = m.segments.slice(0, bad);
  m.decodedAll = false;
  return dropped;
}

/** Reads the parameters a checkpoint was made with (the CLI needs the pinned tile/threads before it starts). */
export function checkpointParams(dir: string): PixelParams | undefined {
  return readManifest(dir)?.params;
}

/**
 * Opens the work folder for a run: a fresh manifest, or the existing one after checking that the input file and
 * every pixel-changing parameter are the same. Untrusted leftovers (partial segments of the crashed run) are
 * removed; the folder is locked against a second engine.
 */
export function openJob(o: OpenJobOptions): OpenedJob {
  const hash = paramsHash(o.params);
  // A running engine is named as such, not reported as an interrupted job.
  if (existsSync(o.dir)) refuseIfRunning(o.dir, o.output);
  const found = existsSync(o.dir) ? readManifest(o.dir) : undefined;
  // A checkpoint with no finished segment holds nothing to lose: a fresh run simply takes it over.
  const existing = found && (o.resume || found.segments.length > 0) ? found : undefined;
  if (existing && !o.resume) {
    throw new EngineError(
      ExitCode.badInput,
      'job-exists',
      `an interrupted job for ${o.output} is in ${o.dir} (${existing.segments.length} segments done)`,
      `continue it with --resume (or: huaju4k resume "${o.output}"), or delete that folder to start over`,
    );
  }
  if (existing) {
    const why = inputMismatch(existing.input, o.input);
    if (why) {
      throw new EngineError(
        ExitCode.badInput,
        'resume-input-changed',
        `cannot resume ${o.output}: ${why} since the checkpoint was made`,
        `delete ${o.dir} to start over with the new input`,
      );
    }
    if (existing.paramsHash !== hash) {
      const diff = diffParams(existing.params, o.params);
      throw new EngineError(
        ExitCode.badInput,
        'resume-params-changed',
        `cannot resume ${o.output}: settings that change the picture differ from the checkpoint (${diff.join(', ') || 'hash differs'})`,
        `resume with the original settings (huaju4k resume "${o.output}" reuses them), or delete ${o.dir} to start over`,
      );
    }
  }
  const created = !existsSync(o.dir);
  try {
    return startJob(o, existing, hash);
  } catch (err) {
    // Another engine's folder and lock are its own.
    if (err instanceof EngineError && err.reason === 'job-running') throw err;
    // Nothing of this run may stay behind: a folder it made, or the lock it took in an existing one.
    if (created) rmSync(o.dir, { recursive: true, force: true });
    else unlockWorkDir(o.dir);
    throw diskFullAtStart(err, o.dir, !!existing);
  }
}

/** ENOSPC/EDQUOT while taking the folder or writing the first manifest: the disk message (exit 4), not an internal error. */
function diskFullAtStart(err: unknown, dir: string, resuming: boolean): unknown {
  const errno = (err as NodeJS.ErrnoException).code;
  const full = errno === 'ENOSPC' || errno === 'EDQUOT' || (err instanceof EngineError && err.reason === 'disk-full');
  if (!full) return err;
  return new EngineError(
    ExitCode.disk,
    'disk-full',
    `disk full: cannot write the checkpoint in ${dir}${resuming ? ' (the previous checkpoint is intact)' : '; nothing was started'}`,
    `free some space on that disk or choose another output folder (-o)${resuming ? ', then resume with --resume' : ''}`,
  );
}

function startJob(o: OpenJobOptions, existing: JobManifest | undefined, hash: string): OpenedJob {
  lockWorkDir(o.dir);
  const now = new Date().toISOString();
  const manifest: JobManifest = existing ?? {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    createdAt: now,
    updatedAt: now,
    input: o.input,
    output: o.output,
    args: o.args,
    paramsHash: hash,
    params: o.params,
    segmentFrames: o.segmentFrames,
    totalFrames: o.totalFrames,
    segments: [],
  };
  const dropped = existing ? keepIntactSegments(o.dir, manifest) : undefined;
  const discarded = discardUntrusted(o.dir, new Set(manifest.segments.map((s) => s.file)));
  writeManifest(o.dir, manifest);
  return { manifest, resumed: !!existing, discarded, dropped };
}
