import * as path from 'node:path';
import { isFinished, type JobSnapshot, percentOf, progressText } from './job-state';

/** What the one progress notification of a batch says now. */
export interface BatchProgress {
  message: string;
  /** Of the whole batch: finished jobs count 100, the others their own percentage. */
  percent: number;
  /** Every job of the batch has ended (or was taken out of it). */
  over: boolean;
}

/**
 * One notification for every job started while it is open (a folder of 20 videos is one batch, not 20 stacked
 * notifications): how many ended, the one(s) running, how many wait, whether the queue is paused.
 */
export function batchProgress(all: readonly JobSnapshot[], queuePaused = false): BatchProgress {
  const jobs = latestPerOutput(all);
  const ended = jobs.filter((j) => isFinished(j.phase)).length;
  const running = jobs.filter((j) => j.phase === 'running');
  const waiting = jobs.filter((j) => j.phase === 'queued').length;
  const sum = jobs.reduce((s, j) => s + (isFinished(j.phase) ? 100 : percentOf(j)), 0);
  const percent = jobs.length > 0 ? Math.floor(sum / jobs.length) : 0;
  const parts: string[] = [];
  if (jobs.length > 1) parts.push(`${ended} of ${jobs.length} finished`);
  for (const j of running) parts.push(`${path.basename(j.input)}: ${progressText(j)}`);
  if (waiting > 0) parts.push(jobs.length > 1 ? `${waiting} queued` : `${path.basename(jobs[0].input)}: queued`);
  if (queuePaused && waiting > 0) parts.push('queue paused');
  return { message: parts.join(' · '), percent, over: ended === jobs.length };
}

const ENDED_WORDS: Record<string, string> = {
  done: 'enhanced',
  failed: 'failed',
  cancelled: 'cancelled',
  interrupted: 'interrupted',
};

/**
 * The jobs of a batch as its videos: a job retried or resumed while the batch is open (its failure is told at once,
 * with Retry) joins the batch as a new job for the same output, and only that latest try counts, in the place of the
 * first. Without this the summary counted the video twice ("3 videos finished: 2 enhanced, 1 failed") and offered
 * Retry Failed for a failure already retried.
 */
export function latestPerOutput(jobs: readonly JobSnapshot[]): JobSnapshot[] {
  const byOutput = new Map<string, JobSnapshot>();
  for (const j of jobs) byOutput.set(j.output, j);
  return [...byOutput.values()];
}

/** The one message at the end of a batch of several jobs: "huaju4k: 5 videos finished: 4 enhanced, 1 failed". */
export function batchEndText(all: readonly JobSnapshot[]): string {
  const jobs = latestPerOutput(all);
  const counts = new Map<string, number>();
  for (const j of jobs) counts.set(j.phase, (counts.get(j.phase) ?? 0) + 1);
  const parts = ['done', 'failed', 'cancelled', 'interrupted']
    .filter((p) => counts.has(p))
    .map((p) => `${counts.get(p)} ${ENDED_WORDS[p]}`);
  return `huaju4k: ${jobs.length} videos finished: ${parts.join(', ')}`;
}

/** The jobs of a batch that are worth a Retry at its end: the failed ones (a cancel was the user's own choice). */
export function batchRetryable(jobs: readonly JobSnapshot[]): string[] {
  return latestPerOutput(jobs)
    .filter((j) => j.phase === 'failed')
    .map((j) => j.id);
}

/**
 * Failures of a batch of several to tell at once (each once: `told` remembers them), not only in the summary at
 * its end: a batch of 20 that fails on the second video should say so while the other 18 run.
 */
export function failuresToTell(jobs: readonly JobSnapshot[], told: Set<string>): JobSnapshot[] {
  if (jobs.length < 2) return [];
  const now = jobs.filter((j) => j.phase === 'failed' && !told.has(j.id));
  for (const j of now) told.add(j.id);
  return now;
}
