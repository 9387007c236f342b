import * as path from 'node:path';
import { isRangeRunning, type RangeView, rangeParts } from '../../protocol/farm-ranges';
import { formatDuration } from '../../protocol/format';
import type { HistoryEntry } from './job-history';
import { type JobSnapshot, percentOf, progressText } from './job-state';

/** A row of the Jobs view: a job of the queue (running or waiting) or one of the history. */
export interface JobRow {
  id: string;
  input: string;
  output: string;
  /** `job.<phase>`: the manifest's menus match on it (move/remove for queued, retry for failed…). */
  contextValue: string;
  label: string;
  description: string;
  tooltip: string;
  icon: string;
}

const ICONS: Record<string, string> = {
  queued: 'watch',
  running: 'sync~spin',
  done: 'pass',
  failed: 'error',
  cancelled: 'circle-slash',
  interrupted: 'debug-pause',
};

/** A running or waiting job; `position` is its 1-based place in line (0 when running). */
export function activeRow(job: JobSnapshot, position: number, paused: boolean): JobRow {
  const state =
    job.phase === 'queued' ? `#${position} in line${paused ? ' (paused)' : ''}` : `running ${progressText(job)}`;
  const since = `${job.phase === 'queued' ? 'Queued' : 'Started'} ${new Date(job.startedAt).toLocaleString()}`;
  return row(job, state, [`${path.basename(job.output)}`, since]);
}

/** A job whose engine another open window follows (JobManager.runningElsewhere): shown, with no actions here. */
export function elsewhereRow(r: Pick<JobSnapshot, 'id' | 'input' | 'output'>): JobRow {
  const lines = [
    `→ ${r.output}`,
    'Followed by another VS Code window (cancel it there); this window takes it over if that one closes.',
  ];
  return {
    ...row({ ...r, phase: 'running' }, 'running in another window', lines),
    contextValue: 'job.elsewhere',
    icon: 'multiple-windows',
  };
}

/** A finished job, as remembered in the workspace's history. */
export function historyRow(e: HistoryEntry): JobRow {
  const took = formatDuration(Math.max(0, (e.endedAt - e.startedAt) / 1000));
  const end = e.phase === 'done' ? `done in ${took}` : `${e.phase} at ${percentOf(e)}%`;
  const when = new Date(e.endedAt).toLocaleString();
  const lines = [`→ ${e.output}`, `Ended ${when}`];
  if (e.message) lines.push(e.message);
  return row(e, end, lines);
}

function row(j: Pick<JobSnapshot, 'id' | 'input' | 'output' | 'phase'>, state: string, lines: string[]): JobRow {
  const dir = path.basename(path.dirname(j.input));
  return {
    id: j.id,
    input: j.input,
    output: j.output,
    contextValue: `job.${j.phase}`,
    label: path.basename(j.input),
    description: `${state} · ${dir}`,
    tooltip: [j.input, ...lines].join('\n'),
    icon: ICONS[j.phase] ?? 'circle-outline',
  };
}

/** A child row of a split job's row: one range, who runs it, its state and retries. */
export interface RangeRow {
  id: string;
  jobId: string;
  /** `job.range`: no job command applies to a range (Cancel on the job cancels every range). */
  contextValue: 'job.range';
  label: string;
  description: string;
  tooltip: string;
  icon: string;
}

function rangeIcon(r: RangeView): string {
  if (isRangeRunning(r)) return 'sync~spin';
  if (r.state === 'done') return 'pass';
  if (r.state === 'failed') return 'error';
  return r.state === 'refused' ? 'warning' : 'history';
}

/** The rows under a running split job, in segment order; none for a job that is not split or not running. */
export function rangeRows(job: Pick<JobSnapshot, 'id' | 'phase' | 'ranges'>): RangeRow[] {
  if (job.phase !== 'running' || !job.ranges) return [];
  return job.ranges.map((r) => {
    const { segments, detail } = rangeParts(r);
    return {
      id: `${job.id}/${r.range}`,
      jobId: job.id,
      contextValue: 'job.range',
      label: segments,
      description: detail,
      tooltip: [`${segments} (range ${r.range})`, detail, ...(r.message ? [r.message] : [])].join('\n'),
      icon: rangeIcon(r),
    };
  });
}
