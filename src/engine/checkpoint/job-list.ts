import { type Dirent, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ExitCode } from '../../protocol/engine-events';
import type { InterruptedJobInfo } from '../../protocol/jobs';
import { EngineError } from '../errors';
import { framesDone, readManifest } from './manifest';
import { dirBytes, runningEngine, WORKDIR_SUFFIX, workDirFor } from './workdir';

/** The work folder a user means by `path`: the folder itself, or the output it belongs to. */
export function resolveWorkDir(path: string): string {
  const p = resolve(path);
  if (p.endsWith(WORKDIR_SUFFIX) && existsSync(p)) return p;
  return workDirFor(p);
}

function describe(dir: string): InterruptedJobInfo | undefined {
  try {
    const m = readManifest(dir);
    if (!m) return undefined;
    const done = framesDone(m);
    const total = Math.max(m.totalFrames, done);
    const running = runningEngine(dir);
    return {
      workDir: dir,
      input: m.input.path,
      output: m.output,
      framesDone: done,
      totalFrames: total,
      percent: total > 0 ? Math.floor((done / total) * 1000) / 10 : 0,
      segments: m.segments.length,
      diskBytes: dirBytes(dir),
      updatedAt: m.updatedAt,
      joinPending: m.decodedAll === true,
      ...(running !== undefined && { runningPid: running }),
    };
  } catch (err) {
    const e = err as Error;
    return {
      workDir: dir,
      input: '',
      output: dir.slice(0, -WORKDIR_SUFFIX.length),
      framesDone: 0,
      totalFrames: 0,
      percent: 0,
      segments: 0,
      diskBytes: dirBytes(dir),
      updatedAt: '',
      joinPending: false,
      error: e.message,
    };
  }
}

/** How deep `jobs <folder>` looks for work folders, and how many folders it reads at most. */
const SEARCH_DEPTH = 6;
const SEARCH_FOLDERS = 5000;
const SKIPPED = new Set(['node_modules', '.git', '.hg', '.svn']);

/** `*.huaju4k` work folders under `root` and its subfolders (hidden folders and node_modules skipped; bounded). */
function findWorkDirs(root: string, into: Set<string>): void {
  const queue: Array<[string, number]> = [[root, 0]];
  let read = 0;
  while (queue.length && read < SEARCH_FOLDERS) {
    const [dir, depth] = queue.shift() as [string, number];
    read++;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (e.name.endsWith(WORKDIR_SUFFIX)) into.add(join(dir, e.name));
      else if (depth < SEARCH_DEPTH && !e.name.startsWith('.') && !SKIPPED.has(e.name)) {
        queue.push([join(dir, e.name), depth + 1]);
      }
    }
  }
}

/**
 * Interrupted (and running) jobs under the given paths: a folder is searched, with its subfolders, for `*.huaju4k`
 * work folders; an output file or a work folder names one job directly.
 */
export function listJobs(paths: string[]): InterruptedJobInfo[] {
  const dirs = new Set<string>();
  // An output with no job (its folder exists) simply has none; a path whose folder does not exist is a mistake. One
  // among several (a workspace folder gone) leaves the others listed.
  const missing = paths.filter((raw) => !existsSync(resolve(raw)) && !existsSync(dirname(resolve(raw))));
  if (paths.length > 0 && missing.length === paths.length) {
    throw new EngineError(
      ExitCode.badInput,
      'not-found',
      `no such file or folder: ${missing.map((m) => resolve(m)).join(', ')}`,
      'give a folder to search, an output file, or its .huaju4k work folder',
    );
  }
  for (const raw of paths) {
    const p = resolve(raw);
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      isDir = false;
    }
    if (isDir && !p.endsWith(WORKDIR_SUFFIX)) findWorkDirs(p, dirs);
    else dirs.add(resolveWorkDir(p));
  }
  return [...dirs]
    .sort()
    .map(describe)
    .filter((j): j is InterruptedJobInfo => !!j);
}

export function formatJobs(jobs: InterruptedJobInfo[]): string {
  if (!jobs.length) return 'no interrupted or running jobs\n';
  return jobs
    .map((j) =>
      j.error
        ? `${j.output}\n  unreadable checkpoint: ${j.error}\n`
        : j.runningPid !== undefined
          ? `${j.output}\n  running now (engine pid ${j.runningPid}): ${j.framesDone}/${j.totalFrames} frames in finished segments, from ${j.input}\n`
          : `${j.output}\n  ${j.percent.toFixed(1)}% (${j.framesDone}/${j.totalFrames} frames, ${j.segments} segments${j.joinPending ? ', join pending' : ''}) from ${j.input}\n  resume: huaju4k resume "${j.output}"\n`,
    )
    .join('');
}
