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

/**
 * The abort reason of an engine whose parent died while it ran (a farm worker or a `--workers` coordinator killed:
 * farm/range-server.ts). Nobody asked to keep the open segment: it is dropped, as a crash drops it, and the frames
 * are redone from the last complete segment — the same frames as an uninterrupted run with any encoder. A cancel
 * asked for (a signal) closes the open segment short instead, keeping its frames.
 */
export const PARENT_GONE = 'parent-gone';

export class CancelledError extends EngineError {
  /** A cancel closes the open segment at its last frame and keeps it; a lost parent drops it (PARENT_GONE). */
  readonly keepsOpenSegment: boolean;

  constructor(reason: string) {
    const lost = reason === PARENT_GONE;
    super(
      ExitCode.cancelled,
      'cancelled',
      lost ? 'stopped: the process that ran this engine is gone' : `cancelled by ${reason}`,
      `${lost ? 'the open segment was dropped; ' : ''}finished segments are kept; continue with --resume (or: huaju4k resume <output>)`,
    );
    this.name = 'CancelledError';
    this.keepsOpenSegment = !lost;
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
