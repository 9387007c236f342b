import { ExitCode } from '../protocol/engine-events';

/**
 * An error the engine knows how to report: it carries the process exit code, a short machine-readable reason
 * (sent as `error.reason`) and a hint that tells the user what to do about it.
 */
export class EngineError extends Error {
  constructor(
    readonly code: ExitCode,
    readonly reason: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export class CancelledError extends EngineError {
  constructor(signal: string) {
    super(
      ExitCode.cancelled,
      'cancelled',
      `cancelled by ${signal}`,
      'finished segments are kept; continue with --resume (or: huaju4k resume <output>)',
    );
    this.name = 'CancelledError';
  }
}

/** Tail of a child's stderr, trimmed to what helps a user (the last few lines). */
export function stderrTail(text: string, lines = 6): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** ffmpeg's words for a full disk (ENOSPC), wherever it was writing. */
export function isDiskFull(stderr: string): boolean {
  return /No space left on device/i.test(stderr);
}
