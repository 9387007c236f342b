import { closeSync, openSync, readdirSync, readFileSync, readSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { type EngineEvent, parseEngineEvent } from '../protocol/engine-events';
import { processAlive, runningEngine } from '../protocol/engine-lock';
import { workDirFor } from '../protocol/output-name';
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

/** True when the events file ends with `done`: the engine finished while no window was following it. */
export function engineFinishedDone(eventsFile: string | undefined): boolean {
  if (!eventsFile) return false;
  try {
    const lines = readFileSync(eventsFile, 'utf8').trimEnd().split('\n');
    return parseEngineEvent(lines[lines.length - 1] ?? '')?.type === 'done';
  } catch {
    return false;
  }
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
    if (!wasAlive) this.finish();
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
    const code = this.last?.type === 'done' ? 0 : this.last?.type === 'error' ? this.last.code : null;
    const signal = code === null ? 'SIGKILL' : null;
    this.listener.onExit(code, signal);
    this.resolveExit({ code, signal });
  }
}
