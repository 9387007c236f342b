import { closeSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { type EngineEvent, parseEngineEvent, previewFileFor } from '../../protocol/engine-events';
import { processAlive, runningEngine } from '../../protocol/engine-lock';
import { workDirFor } from '../../protocol/output-name';
import type { JobRecord } from '../jobs/job-journal';
import { applyEngineEvent, applyExit, type JobSnapshot, newJob } from '../jobs/job-state';
import type { EngineHandle, EngineListener } from './engine-process';
import { CANCEL_GRACE_MS } from './engine-process';
import { killProcessTree } from './process-tree';

/**
 * True when `pid` is still the engine working on `output`: alive, and the holder of the job's work-folder lock (a
 * recycled pid of some other program is not).
 */
export function engineStillRunning(pid: number | undefined, output: string): boolean {
  return pid !== undefined && runningEngine(workDirFor(output)) === pid;
}

/** How an engine that is gone ended, from its last `done` / `error` event (none: it was killed). */
function exitOf(last: EngineEvent | undefined): { code: number | null; signal: string | null } {
  const code = last?.type === 'done' ? 0 : last?.type === 'error' ? last.code : null;
  return { code, signal: code === null ? 'SIGKILL' : null };
}

/**
 * The job of an engine that ended while no window followed it (its events file ends with `done` or `error`), rebuilt
 * from that file as a re-attached engine would have followed it: how it ended, where, and when (its last event).
 * Undefined when the file is missing or does not end so (the engine still runs, or was killed).
 */
export function engineEnded(record: JobRecord): JobSnapshot | undefined {
  let events: EngineEvent[];
  try {
    const lines = record.eventsFile ? readFileSync(record.eventsFile, 'utf8').split('\n') : [];
    events = lines.map((l) => parseEngineEvent(l)).filter((e): e is EngineEvent => e !== undefined);
  } catch {
    return undefined;
  }
  const last = events[events.length - 1];
  if (last?.type !== 'done' && last?.type !== 'error') return undefined;
  const start = { ...newJob(record.id, record.input, record.output, record.startedAt), phase: 'running' as const };
  const job = events.reduce(applyEngineEvent, start);
  const { code, signal } = exitOf(last);
  return applyExit(job, code, signal, false, last.ts);
}

/** Removes the events files of engines no job follows any more (finished or gone while no window was open). */
export function pruneEventFiles(dir: string, keep: ReadonlySet<string>): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.endsWith('.events.jsonl') && !keep.has(file)) rmSync(file, { force: true });
    for (const suffix of ['.preview', '.claim'])
      if (name.endsWith(`.events.jsonl${suffix}`) && !keep.has(file.slice(0, -suffix.length)))
        rmSync(file, { force: true });
  }
}

/**
 * An engine started by an earlier extension host (before a window reload) and still running. Its IPC channel died
 * with that host, so its events are read from the file it appends them to (HUAJU4K_EVENTS_FILE), from the start
 * (the job's state is rebuilt) and then as they come; its exit is noticed by polling, and its exit code is taken from
 * its last `done` / `error` event (none: it was killed).
 */
export class AttachedEngine implements EngineHandle {
  private offset = 0;
  private pending = '';
  private exited = false;
  private last: EngineEvent | undefined;
  /** mtime of the preview file last read: a new picture is passed on once. */
  private previewAt = 0;
  private readonly timer: NodeJS.Timeout;
  private killTimer: NodeJS.Timeout | undefined;
  private resolveExit: (r: { code: number | null; signal: string | null }) => void = () => {};
  readonly exit: Promise<{ code: number | null; signal: string | null }>;

  constructor(
    readonly pid: number,
    private readonly eventsFile: string,
    private readonly listener: EngineListener,
    pollMs = 500,
  ) {
    this.exit = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
    this.timer = setInterval(() => this.poll(), pollMs);
    this.poll();
  }

  get running(): boolean {
    return !this.exited;
  }

  cancel(graceMs = CANCEL_GRACE_MS): void {
    if (this.exited) return;
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      return;
    }
    if (!this.killTimer) {
      this.killTimer = setTimeout(() => killProcessTree(this.pid, 'SIGKILL'), graceMs);
      this.killTimer.unref?.();
    }
  }

  kill(): void {
    if (!this.exited) killProcessTree(this.pid, 'SIGKILL');
  }

  /** Stops following the engine (this host is going away); the engine itself goes on. */
  detach(): void {
    clearInterval(this.timer);
  }

  private poll(): void {
    if (this.exited) return;
    const wasAlive = processAlive(this.pid);
    this.readNew();
    this.readPreview();
    if (!wasAlive) this.finish();
  }

  /** The engine's newest preview (it keeps previews out of the events file): the monitor's picture after a reload. */
  private readPreview(): void {
    const file = previewFileFor(this.eventsFile);
    try {
      const at = statSync(file).mtimeMs;
      if (at === this.previewAt) return;
      this.previewAt = at;
      const ev = parseEngineEvent(readFileSync(file, 'utf8'));
      if (ev?.type === 'preview') this.listener.onEvent(ev);
    } catch {
      // No preview yet (previews are at most one a second), or it is being replaced.
    }
  }

  private readNew(): void {
    let fd: number | undefined;
    try {
      fd = openSync(this.eventsFile, 'r');
      const chunk = Buffer.alloc(1 << 16);
      for (;;) {
        const n = readSync(fd, chunk, 0, chunk.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        this.pending += chunk.subarray(0, n).toString('utf8');
      }
    } catch {
      return;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) {
      const ev = parseEngineEvent(line);
      if (!ev) continue;
      if (ev.type === 'done' || ev.type === 'error') this.last = ev;
      this.listener.onEvent(ev);
    }
  }

  private finish(): void {
    this.exited = true;
    clearInterval(this.timer);
    if (this.killTimer) clearTimeout(this.killTimer);
    // Whatever the engine left behind (an ffmpeg child) goes with it.
    killProcessTree(this.pid, 'SIGKILL');
    const { code, signal } = exitOf(this.last);
    this.listener.onExit(code, signal);
    this.resolveExit({ code, signal });
  }
}
