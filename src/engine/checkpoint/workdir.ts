import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../protocol/engine-events';
import { LOCK_NAME, lockContent, runningEngine } from '../../protocol/engine-lock';
import { WORKDIR_SUFFIX, workDirFor } from '../../protocol/output-name';
import { EngineError } from '../errors';
import { MANIFEST_NAME } from './manifest';

export { runningEngine, WORKDIR_SUFFIX, workDirFor };

/** The folder inside a work folder where a farm job's ranges keep their own checkpoints (farm/ranges.ts). */
export const RANGES_DIR = 'ranges';

export function segmentName(index: number): string {
  return `seg-${String(index).padStart(6, '0')}.mp4`;
}

/** Unique per process: an encoder orphaned by a killed engine may still be writing its own partial file. */
export function partialSegmentName(index: number): string {
  return `seg-${String(index).padStart(6, '0')}.${process.pid}.partial.mp4`;
}

/** Refuses when another live engine holds the folder (a lock whose pid is no engine is stale and ignored). */
export function refuseIfRunning(dir: string, output?: string): void {
  const holder = runningEngine(dir);
  if (holder !== undefined && holder !== process.pid) {
    throw new EngineError(
      ExitCode.badInput,
      'job-running',
      `another huaju4k engine (pid ${holder}) is working on ${output ?? dir}${output ? ` (in ${dir})` : ''}`,
      'wait for it to finish or stop it first (huaju4k jobs <folder> lists running jobs)',
    );
  }
}

/** Takes the folder for this process; refuses when another live engine holds it. */
export function lockWorkDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  refuseIfRunning(dir);
  writeFileSync(join(dir, LOCK_NAME), lockContent());
}

export function unlockWorkDir(dir: string): void {
  rmSync(join(dir, LOCK_NAME), { force: true });
}

/**
 * Removes what a checkpoint does not vouch for: partial segments (any process), a stale manifest temp file, and
 * finished-looking segment files the manifest does not list (renamed just before a crash, never recorded).
 */
export function discardUntrusted(dir: string, recorded: ReadonlySet<string>): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    // A farm job's ranges (farm/ranges.ts) are vouched for by their own manifests.
    if (name === MANIFEST_NAME || name === LOCK_NAME || name === RANGES_DIR || recorded.has(name)) continue;
    rmSync(join(dir, name), { force: true, recursive: true });
    removed.push(name);
  }
  return removed;
}

/** Bytes of the regular files directly inside `dir` (the work folder is flat). */
export function dirBytes(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    try {
      const st = statSync(join(dir, name));
      if (st.isFile()) total += st.size;
    } catch {
      // removed between readdir and stat
    }
  }
  return total;
}
