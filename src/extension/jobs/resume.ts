import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { workDirFor } from '../../protocol/output-name';
import { type EngineJobInfo, recordFromEngineJob } from '../engine/engine-jobs';
import type { JobJournal, JobRecord } from './job-journal';
import { keptNothing, percentOf } from './job-state';

/** An interrupted job a user can continue. */
export interface ResumableJob {
  record: JobRecord;
  percent: number;
}

/**
 * Interrupted or cancelled jobs whose input still exists and that kept something to resume (their work folder is
 * there, and the engine did not say it kept nothing), newest first. The others can only start again (Retry).
 */
export function listResumable(journal: JobJournal, exists: (p: string) => boolean = existsSync): ResumableJob[] {
  return journal
    .interrupted()
    .filter((r) => exists(r.input) && exists(r.workDir ?? workDirFor(r.output)) && !keptNothing(r))
    .sort((a, b) => b.updatedAt - a.updatedAt)
    .map((record) => ({ record, percent: percentOf(record) }));
}

/**
 * Jobs remembered by the extension merged with checkpoints the engine found on disk (`huaju4k jobs`). A checkpoint
 * knows the verified frames, so its count wins; a checkpoint the extension never saw (a CLI run, another
 * machine) is offered too. A checkpoint a live engine is writing (`runningPid`: a job re-attached after a window
 * reload, or a CLI run) is no interrupted job: neither it nor a remembered job for the same output is offered.
 */
export function mergeResumable(remembered: ResumableJob[], checkpoints: EngineJobInfo[]): ResumableJob[] {
  const byOutput = new Map(remembered.map((j) => [j.record.output, j]));
  for (const cp of checkpoints) {
    if (cp.runningPid !== undefined) {
      byOutput.delete(cp.output);
      continue;
    }
    const known = byOutput.get(cp.output);
    if (known) {
      const record = { ...known.record, frame: cp.framesDone, total: cp.totalFrames, workDir: cp.workDir };
      byOutput.set(cp.output, { record, percent: percentOf(record) });
    } else {
      const record = recordFromEngineJob(cp);
      byOutput.set(cp.output, { record, percent: percentOf(record) });
    }
  }
  return [...byOutput.values()].sort((a, b) => b.record.updatedAt - a.record.updatedAt);
}

/**
 * How to continue a job: a checkpoint found on disk is resumed by its work folder (the engine reads the
 * parameters from its manifest); a remembered job reruns its enhance arguments with `--resume`, and the engine
 * refuses if the input or the pixel settings changed.
 */
export function resumeArgs(record: Pick<JobRecord, 'args'>): string[] {
  if (record.args[0] === 'resume') return [...record.args];
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
    description: `${job.percent}% kept · ${r.frame}/${r.total} frames`,
    detail: `${when} → ${r.output}${why}`,
  };
}

/** Finds the record a command argument (input, output or work folder path) refers to. */
export function findResumable(jobs: ResumableJob[], target: string): ResumableJob | undefined {
  return jobs.find((j) => j.record.output === target || j.record.input === target || j.record.workDir === target);
}
