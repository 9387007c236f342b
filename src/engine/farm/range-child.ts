import { type ChildProcess, spawn } from 'node:child_process';
import { type EngineEvent, type ErrorEvent, parseEngineEvent } from '../../protocol/engine-events';
import { engineCommand } from '../children';
import { stderrTail } from '../errors';

export interface RangeChildResult {
  /** 0 when the range is done (the engine goes on); else the engine's exit code (null: killed by `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The engine's own error event, when it reported one. */
  error?: ErrorEvent;
  /** The tail of its stderr, for a crash without an error event. */
  stderr: string;
  /** Frames the range holds (its `range done` event). */
  frames: number;
}

interface Running {
  onEvent: (e: EngineEvent) => void;
  done: (r: RangeChildResult) => void;
}

/**
 * A long-lived range engine (`huaju4k enhance --range - …`, farm/range-server.ts): started once per worker, it
 * loads the model once and runs range after range, each sent as a line on its stdin. Its stdin is a pipe held by
 * this process, so the engine stops when this process dies however it dies. An engine whose range failed (or that
 * was killed) has exited: `alive` is false and the caller starts a new one.
 */
export class RangeEngine {
  readonly child: ChildProcess;
  private running: Running | undefined;
  private exit: RangeChildResult | undefined;
  private readonly exited: Promise<RangeChildResult>;
  private error: ErrorEvent | undefined;
  private stderr = '';

  /** `options`: the job's enhance options without the ones that split it, ending with `-o <output> -- <input>`. */
  constructor(options: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [...engineCommand(), 'enhance', '--json', '--range', '-', ...options], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let pending = '';
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      const lines = (pending + d).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const e = parseEngineEvent(line);
        if (e) this.onEvent(e);
      }
    });
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-8192);
    });
    this.child.stdin?.on('error', () => undefined);
    this.exited = new Promise<RangeChildResult>((resolve) => {
      this.child.on('error', (err) => {
        this.stderr += String(err);
      });
      this.child.on('close', (code, signal) => {
        const r = { code, signal, error: this.error, stderr: stderrTail(this.stderr, 3), frames: 0 };
        this.exit = r;
        this.finish(r);
        resolve(r);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Still running and taking ranges. */
  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Runs one range (`first:end`); resolves when it is done (code 0) or the engine has exited. */
  run(range: string, onEvent: (e: EngineEvent) => void): Promise<RangeChildResult> {
    if (this.exit) return Promise.resolve(this.exit);
    if (this.running) throw new Error(`range engine ${this.pid} is already running a range`);
    const result = new Promise<RangeChildResult>((done) => {
      this.running = { onEvent, done };
    });
    this.child.stdin?.write(`${range}\n`);
    return result;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** No more ranges: the engine ends once its range (if any) is done. */
  async close(): Promise<void> {
    this.child.stdin?.end();
    await this.exited;
  }

  private onEvent(e: EngineEvent): void {
    if (e.type === 'error') this.error = e;
    this.running?.onEvent(e);
    if (e.type === 'range' && e.state === 'done') {
      this.finish({ code: 0, signal: null, stderr: '', frames: e.frames });
    }
  }

  private finish(r: RangeChildResult): void {
    const running = this.running;
    this.running = undefined;
    running?.done(r);
  }
}
