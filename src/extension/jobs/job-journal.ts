import type { JobFailure, JobPhase, JobSnapshot } from './job-state';

/** The subset of `vscode.Memento` the journal needs (globalState satisfies it). */
export interface KeyValueStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** A job as remembered across reloads: enough to show it and to resume it with the same arguments. */
export interface JobRecord {
  id: string;
  input: string;
  output: string;
  args: string[];
  env: Record<string, string>;
  phase: JobPhase;
  frame: number;
  total: number;
  startedAt: number;
  updatedAt: number;
  workDir?: string;
  failure?: JobFailure;
  /** The engine's pid while it runs, and the file it appends its events to: a reloaded host re-attaches with them. */
  pid?: number;
  eventsFile?: string;
}

const KEY = 'huaju4k.jobs.v1';
const MAX_RECORDS = 100;

/**
 * Remembers unfinished and failed jobs in the extension's global storage, keyed by output path (one record per
 * output). Finished jobs are dropped: their output file is the record.
 */
export class JobJournal {
  constructor(private readonly store: KeyValueStore) {}

  all(): JobRecord[] {
    const raw = this.store.get<unknown>(KEY);
    return Array.isArray(raw) ? raw.filter(isRecord) : [];
  }

  /**
   * After a reload: jobs whose engine is still running (`stillRunning`) are returned to be re-attached; those whose
   * engine ended meanwhile (`endedWhileClosed`: the job as it ended, from its events file) are recorded as any ended
   * job is (a done one forgotten, its output is the record) and returned once, for the history; the other jobs that
   * were running or queued when the host went away are interrupted.
   */
  async recoverAfterRestart(
    stillRunning: (r: JobRecord) => boolean = () => false,
    endedWhileClosed: (r: JobRecord) => JobSnapshot | undefined = () => undefined,
  ): Promise<{ live: JobRecord[]; ended: JobSnapshot[] }> {
    const live: JobRecord[] = [];
    const ended: JobSnapshot[] = [];
    const records: JobRecord[] = [];
    let changed = false;
    for (const r of this.all()) {
      if (r.phase === 'running' && stillRunning(r)) {
        live.push(r);
        records.push(r);
        continue;
      }
      const end = r.phase === 'running' ? endedWhileClosed(r) : undefined;
      if (end) {
        ended.push(end);
        changed = true;
        // As after any run: a done job's output is its record; a failed or cancelled one stays (resume, the tree).
        if (end.phase !== 'done') records.push(recordOf(end, r.args, r.env));
        continue;
      }
      if (r.phase === 'running' || r.phase === 'queued') {
        r.phase = 'interrupted';
        r.pid = undefined;
        r.failure = r.failure ?? {
          exitCode: null,
          signal: null,
          reason: 'host-exit',
          message: 'VS Code closed while the job was running.',
        };
        changed = true;
      }
      records.push(r);
    }
    if (changed) await this.store.update(KEY, records);
    return { live, ended };
  }

  async record(job: JobSnapshot, args: string[], env: Record<string, string>, eventsFile?: string): Promise<void> {
    const others = this.all().filter((r) => r.output !== job.output);
    await this.store.update(
      KEY,
      job.phase === 'done' ? others : [...others, recordOf(job, args, env, eventsFile)].slice(-MAX_RECORDS),
    );
  }

  async forget(output: string): Promise<void> {
    await this.store.update(
      KEY,
      this.all().filter((r) => r.output !== output),
    );
  }

  interrupted(): JobRecord[] {
    return this.all().filter((r) => r.phase === 'interrupted' || r.phase === 'cancelled');
  }

  byInput(input: string): JobRecord | undefined {
    return this.all()
      .filter((r) => r.input === input)
      .sort((a, b) => b.updatedAt - a.updatedAt)[0];
  }
}

/** A job as the journal keeps it (the pid and events file only while its engine runs). */
function recordOf(job: JobSnapshot, args: string[], env: Record<string, string>, eventsFile?: string): JobRecord {
  return {
    id: job.id,
    input: job.input,
    output: job.output,
    args,
    env,
    phase: job.phase,
    frame: job.frame,
    total: job.total,
    startedAt: job.startedAt,
    updatedAt: job.updatedAt,
    workDir: job.workDir,
    failure: job.failure,
    ...(job.phase === 'running' && job.pid !== undefined && { pid: job.pid, eventsFile }),
  };
}

function isRecord(v: unknown): v is JobRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.id === 'string' && typeof r.input === 'string' && typeof r.output === 'string' && Array.isArray(r.args)
  );
}
