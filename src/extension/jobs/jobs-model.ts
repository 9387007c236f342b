import * as path from 'node:path';
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
