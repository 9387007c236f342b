import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * Every child process the engine starts is registered here so a signal, an error in another stage or the end of
 * the run can reap all of them: nothing outlives the engine.
 */
class ChildRegistry {
  private readonly live = new Set<ChildProcess>();
  private readonly spared = new WeakSet<ChildProcess>();
  private readonly holds = new Set<Promise<void>>();

  add(child: ChildProcess): ChildProcess {
    this.live.add(child);
    child.once('exit', () => this.live.delete(child));
    child.once('error', () => this.live.delete(child));
    return child;
  }

  get size(): number {
    return this.live.size;
  }

  /** A child a cancel lets finish its work (a segment encoder closing the open segment): see `killAll`. */
  spareOnCancel(child: ChildProcess): void {
    this.spared.add(child);
  }

  /**
   * SIGKILL now; ffmpeg children hold nothing worth flushing once the run is abandoned. A cancel passes
   * `sparing: true` and leaves the children marked `spareOnCancel` running (a later `killAll` reaps them).
   */
  killAll(signal: NodeJS.Signals = 'SIGKILL', o: { sparing?: boolean } = {}): void {
    for (const c of this.live) {
      if (o.sparing && this.spared.has(c)) continue;
      if (c.exitCode === null && c.signalCode === null) c.kill(signal);
    }
  }

  /** Work a cancel waits for before it reaps everything (the open segment being closed). */
  hold(work: Promise<void>): void {
    const held = work.catch(() => undefined);
    this.holds.add(held);
    void held.then(() => this.holds.delete(held));
  }

  /** Resolves when every held piece of work has settled, or after `capMs`, whichever comes first. */
  async held(capMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, capMs);
    });
    await Promise.race([Promise.all(this.holds), cap]);
    clearTimeout(timer);
  }

  /** Resolves when every registered child has exited. */
  async reaped(): Promise<void> {
    await Promise.all(
      [...this.live].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) resolve();
            else c.once('exit', () => resolve());
          }),
      ),
    );
  }
}

export const children = new ChildRegistry();

/** How much of a tool's stderr is kept: its last lines are what explain a failure. */
const STDERR_KEEP_CHARS = 64 * 1024;

export interface StartedTool {
  child: ChildProcess;
  /** The stderr read so far (at most its last 64 KiB); empty when stderr is not piped. */
  stderr(): string;
  /** Settles when the process has exited and its pipes are closed; a spawn failure is `code: -1`, `error` set. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
}

/**
 * Starts a tool (ffmpeg, ffprobe) with an argv array, registered for reaping, with its stderr kept for the error
 * message. The one place the engine spawns a process.
 */
export function startTool(bin: string, args: readonly string[], stdio: StdioOptions): StartedTool {
  const child = children.add(spawn(bin, args, { stdio, windowsHide: true }));
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-STDERR_KEEP_CHARS);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: -1, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, stderr: () => stderr, exited };
}

export interface ToolResult {
  /** The exit code; -1 when it could not be started or was killed by a signal. */
  code: number;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  /** Why it could not be started (ENOENT…), if so. */
  error?: Error;
}

/** Runs a tool to its end: `input` written to its stdin, stdout collected, stderr kept. */
export async function runTool(bin: string, args: readonly string[], input?: Uint8Array): Promise<ToolResult> {
  const tool = startTool(bin, args, [input ? 'pipe' : 'ignore', 'pipe', 'pipe']);
  const chunks: Buffer[] = [];
  tool.child.stdout?.on('data', (d: Buffer) => chunks.push(d));
  if (input) {
    tool.child.stdin?.on('error', () => {});
    tool.child.stdin?.end(input);
  }
  const { code, signal, error } = await tool.exited;
  return { code: code ?? -1, signal, stdout: Buffer.concat(chunks), stderr: tool.stderr(), error };
}

/** How to start the engine again: the bundle (dist/engine.js) itself, or src/engine/cli.ts under tsx in tests. */
export function engineCommand(): string[] {
  if (__filename.endsWith('.ts')) return ['--import', 'tsx', resolve(__dirname, 'cli.ts')];
  return [__filename];
}
