import { ExitCode } from './engine-events';

/** Where a job is, for every view of it: the Videos tree, notifications, the status bar and the monitor. */
export type JobPhase = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

/** The phases a run ends in. */
export type EndPhase = Exclude<JobPhase, 'queued' | 'running'>;
export const END_PHASES: readonly EndPhase[] = ['done', 'failed', 'cancelled', 'interrupted'];

/**
 * How a run ended, from the engine's exit code (or the signal that stopped it): one rule for both ends, so the tree
 * and the monitor cannot disagree. Cancelled when asked or exit 5; interrupted (resumable) when killed by a signal or
 * stopped by the disk guard (exit 4); done on 0; failed otherwise.
 */
export function endPhase(exitCode: number | null, signal: string | null, cancelRequested: boolean): EndPhase {
  if (exitCode === ExitCode.ok) return 'done';
  if (cancelRequested || exitCode === ExitCode.cancelled) return 'cancelled';
  if (signal !== null || exitCode === ExitCode.disk) return 'interrupted';
  return 'failed';
}
