import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { JobJournal, JobRecord } from './job-journal';
import { percentOf } from './job-state';

/** An interrupted job a user can continue. */
export interface ResumableJob {
  record: JobRecord;
  percent: number;
}

/** Interrupted or cancelled jobs whose input still exists, newest first. */
export function listResumable(journal: JobJournal, exists: (p: string) => boolean = existsSync): ResumableJob[] {
  return journal
    .interrupted()
    .filter((r) => exists(r.input))
    .sort((a, b) => b.updatedAt - a.updatedAt)
    .map((record) => ({ record, percent: percentOf(record) }));
}

/** The same enhance arguments plus `--resume`: the engine checks that input and pixel settings still match. */
export function resumeArgs(record: Pick<JobRecord, 'args'>): string[] {
  return [...record.args.filter((a) => a !== '--resume'), '--resume'];
}

export interface ResumePickItem {
  label: string;
  description: string;
  detail: string;
}

export function resumePickItem(job: ResumableJob): ResumePickItem {
  const r = job.record;
  const when = new Date(r.updatedAt).toLocaleString();
  const why = r.failure?.message ? ` · ${r.failure.message}` : '';
  return {
    label: path.basename(r.input),
    description: `${job.percent}% done · ${r.frame}/${r.total} frames`,
    detail: `${when} → ${r.output}${why}`,
  };
}

/** Finds the record a command argument (input, output or work folder path) refers to. */
export function findResumable(jobs: ResumableJob[], target: string): ResumableJob | undefined {
  return jobs.find((j) => j.record.output === target || j.record.input === target || j.record.workDir === target);
}
