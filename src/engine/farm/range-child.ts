import { type ChildProcess, spawn } from 'node:child_process';
import { type EngineEvent, type ErrorEvent, parseEngineEvent } from '../../protocol/engine-events';
import { engineCommand } from '../children';
import { stderrTail } from '../errors';

/** Tells a range's engine that its parent is gone (the pipe on its stdin closed): it stops as a cancel does. */
export const PARENT_PIPE_ENV = 'HUAJU4K_PARENT_PIPE';

export interface RangeChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The engine's own error event, when it reported one. */
  error?: ErrorEvent;
  /** The tail of its stderr, for a crash without an error event. */
  stderr: string;
}

export interface RangeChild {
  child: ChildProcess;
  result: Promise<RangeChildResult>;
}

/**
 * Starts `huaju4k enhance … --range` (argv without the program) and reads its JSON events. Its stdin is a pipe
 * held by this process, so the child stops when this process dies however it dies (PARENT_PIPE_ENV).
 */
export function startRangeChild(argv: string[], env: NodeJS.ProcessEnv, onEvent: (e: EngineEvent) => void): RangeChild {
  const child = spawn(process.execPath, [...engineCommand(), ...argv], {
    env: { ...process.env, ...env, [PARENT_PIPE_ENV]: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let error: ErrorEvent | undefined;
  let stderr = '';
  let pending = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    const lines = (pending + d).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const e = parseEngineEvent(line);
      if (e?.type === 'error') error = e;
      if (e) onEvent(e);
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-8192);
  });
  child.stdin?.on('error', () => undefined);
  const result = new Promise<RangeChildResult>((done) => {
    child.on('error', (err) => {
      stderr += String(err);
    });
    child.on('close', (code, signal) => done({ code, signal, error, stderr: stderrTail(stderr, 3) }));
  });
  return { child, result };
}
