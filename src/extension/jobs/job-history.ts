import type { EndPhase } from '../../protocol/job-phase';
import { Emitter } from '../emitter';
import type { KeyValueStore } from './job-journal';
import { isFinished, type JobSnapshot } from './job-state';

/** A finished job as the Jobs view lists it after a reload: what ran, how it ended, and when. */
export interface HistoryEntry {
  id: string;
  input: string;
  output: string;
  phase: EndPhase;
  frame: number;
  total: number;
  startedAt: number;
  endedAt: number;
  /** Why it did not finish (failed, cancelled, interrupted). */
  message?: string;
}

const KEY = 'huaju4k.history.v1';
export const MAX_HISTORY = 200;

/**
 * Finished jobs of this workspace, newest first, kept in the workspace's storage so they survive a window reload
 * (the journal keeps only what can be resumed; this keeps what happened).
 */
export class JobHistory {
  private readonly changed = new Emitter<void>();
  /** Fires after every change (an entry added or removed, the history cleared). */
  readonly onDidChange = this.changed.event;

  constructor(private readonly store: KeyValueStore) {}

  private async save(entries: HistoryEntry[]): Promise<void> {
    const saving = this.store.update(KEY, entries);
    this.changed.fire();
    await saving;
  }

  all(): HistoryEntry[] {
    const raw = this.store.get<unknown>(KEY);
    return Array.isArray(raw) ? raw.filter(isEntry) : [];
  }

  get(id: string): HistoryEntry | undefined {
    return this.all().find((e) => e.id === id);
  }

  /** Records a job that has ended (once per id; a later end of the same id replaces the first). */
  async add(job: JobSnapshot): Promise<void> {
    if (!isFinished(job.phase)) return;
    const entry: HistoryEntry = {
      id: job.id,
      input: job.input,
      output: job.output,
      phase: job.phase as EndPhase,
      frame: job.frame,
      total: job.total,
      startedAt: job.startedAt,
      endedAt: job.updatedAt,
      ...(job.failure && { message: job.failure.message }),
    };
    const rest = this.all().filter((e) => e.id !== job.id);
    await this.save([entry, ...rest].slice(0, MAX_HISTORY));
  }

  async remove(ids: readonly string[]): Promise<void> {
    await this.save(this.all().filter((e) => !ids.includes(e.id)));
  }

  async clear(): Promise<void> {
    await this.save([]);
  }
}

function isEntry(v: unknown): v is HistoryEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.id === 'string' && typeof e.input === 'string' && typeof e.output === 'string';
}
