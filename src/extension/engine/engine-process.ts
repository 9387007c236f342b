import { type ChildProcess, fork } from 'node:child_process';
import { type EngineEvent, parseEngineEvent } from '../../protocol/engine-events';
import { killProcessTree, processGroupAlive } from './process-tree';

export interface EngineLaunch {
  /** Absolute path of `dist/engine.js`. */
  enginePath: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Node binary; defaults to the extension host's own (`process.execPath`). */
  execPath?: string;
  /**
   * Where the engine also appends its events. With it the engine outlives this extension host (a window reload
   * does not stop the job) and a later host re-attaches through the file (attached-engine.ts).
   */
  eventsFile?: string;
}

/** A running engine as the job manager sees it: forked by this host, or re-attached after a reload. */
export interface EngineHandle {
  readonly pid: number | undefined;
  readonly running: boolean;
  readonly exit: Promise<{ code: number | null; signal: string | null }>;
  cancel(graceMs?: number): void;
  kill(): void;
  /** Stops following the engine without stopping it (this host is going away). */
  detach(): void;
}

export interface EngineListener {
  onEvent(ev: EngineEvent): void;
  /** stdout/stderr lines that are not events (logged, never interpreted). */
  onLog(line: string, stream: 'stdout' | 'stderr'): void;
  onExit(code: number | null, signal: string | null): void;
}

/**
 * How long a cancelled engine gets to write its checkpoint and exit before the whole tree is killed: past the
 * engine's own bound for closing the open segment (1.5 s + 15 s, engine/cli.ts), so a cancel keeps its frames.
 */
export const CANCEL_GRACE_MS = 20_000;

/**
 * One forked engine. Events arrive as IPC messages (or `--json` lines on stdout when IPC is not used); the
 * process group is killed on cancel/dispose so no ffmpeg is left behind.
 */
export class EngineProcess implements EngineHandle {
  private readonly child: ChildProcess;
  private exited = false;
  private killTimer: NodeJS.Timeout | undefined;
  private ipcSeen = false;
  readonly exit: Promise<{ code: number | null; signal: string | null }>;

  constructor(launch: EngineLaunch, listener: EngineListener) {
    this.child = fork(launch.enginePath, launch.args, {
      cwd: launch.cwd,
      env: {
        ...process.env,
        ...launch.env,
        HUAJU4K_IPC: '1',
        ...(launch.eventsFile && { HUAJU4K_EVENTS_FILE: launch.eventsFile, HUAJU4K_DETACHED: '1' }),
      },
      execPath: launch.execPath,
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: process.platform !== 'win32',
      serialization: 'json',
    });
    this.child.on('message', (msg: unknown) => {
      const ev = parseEngineEvent(msg);
      if (ev) {
        this.ipcSeen = true;
        listener.onEvent(ev);
      } else {
        listener.onLog(`ignored IPC message: ${JSON.stringify(msg).slice(0, 200)}`, 'stderr');
      }
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      let buf = '';
      this.child[stream]?.setEncoding('utf8');
      this.child[stream]?.on('data', (chunk: string) => {
        buf += chunk;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          this.line(buf.slice(0, nl), stream, listener);
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
        }
      });
      this.child[stream]?.on('end', () => {
        if (buf) this.line(buf, stream, listener);
        buf = '';
      });
    }
    this.exit = new Promise((resolve) => {
      let settled = false;
      const finish = (code: number | null, signal: string | null) => {
        if (settled) return;
        settled = true;
        this.exited = true;
        if (this.killTimer) clearTimeout(this.killTimer);
        // The engine is gone; make sure none of its children outlive it.
        if (this.child.pid !== undefined) killProcessTree(this.child.pid, 'SIGKILL');
        listener.onExit(code, signal);
        resolve({ code, signal });
      };
      this.child.on('error', (err) => {
        listener.onLog(`engine process error: ${err.message}`, 'stderr');
        if (this.child.pid === undefined) finish(null, null);
      });
      this.child.on('close', (code, signal) => finish(code, signal));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Asks the engine to stop (SIGTERM: it checkpoints and exits 5), then kills the whole tree after the grace. */
  cancel(graceMs = CANCEL_GRACE_MS): void {
    if (this.exited || this.child.pid === undefined) return;
    const pid = this.child.pid;
    try {
      this.child.kill('SIGTERM');
    } catch {
      // already gone
    }
    if (!this.killTimer) {
      this.killTimer = setTimeout(() => killProcessTree(pid, 'SIGKILL'), graceMs);
      this.killTimer.unref?.();
    }
  }

  detach(): void {
    // The host is going away: nothing to release; the engine notices the closed IPC channel and goes on.
    if (this.killTimer) clearTimeout(this.killTimer);
  }

  /** Immediate kill of the engine and all its children. */
  kill(): void {
    if (this.child.pid === undefined) return;
    if (!this.exited || processGroupAlive(this.child.pid)) killProcessTree(this.child.pid, 'SIGKILL');
  }

  private line(line: string, stream: 'stdout' | 'stderr', listener: EngineListener): void {
    const text = line.replace(/\r$/, '');
    if (!text) return;
    if (stream === 'stdout' && !this.ipcSeen && text.startsWith('{')) {
      const ev = parseEngineEvent(text);
      if (ev) {
        listener.onEvent(ev);
        return;
      }
    }
    listener.onLog(text, stream);
  }
}
