import { processAlive } from '../../protocol/engine-lock';
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
  /** The queue key the job ran or waits under: a re-attached engine counts against its device's limit. */
  device?: string;
  /** The extension host that queued or started it: a queued job of a window still open is that window's. */
  hostPid?: number;
}

/** What the journal keeps beside a snapshot. */
export interface RecordExtra {
  eventsFile?: string;
  device?: string;
}

/** What a new window takes over after a reload. */
export interface Recovered {
  /** Jobs whose engine still runs: to re-attach. */
  live: JobRecord[];
  /** Jobs that ended while no window was open, as they ended: for the history. */
  ended: JobSnapshot[];
  /** Jobs that were waiting in line, in line order: to queue again (never interrupted: they had not started). */
  queued: JobRecord[];
  /** The queue was paused when the window went away (and by no other window still open): it stays paused. */
  queuePaused: boolean;
}

/** A queued record (or the queue's pause) belongs to another open window when its host is alive and not this one. */
const otherHostAlive = (r: { hostPid?: number }): boolean =>
  r.hostPid !== undefined && r.hostPid !== process.pid && processAlive(r.hostPid);

const KEY = 'huaju4k.jobs.v1';
/** The queue's Pause, `{ paused, hostPid }`: kept beside the waiting line it holds back. */
const PAUSED_KEY = 'huaju4k.queuePaused.v1';
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
   * job is (a done one forgotten, its output is the record) and returned once, for the history; queued jobs are
   * returned to be queued again (those of another open window left alone); the other jobs that were running when
   * the host went away are interrupted.
   */
  async recoverAfterRestart(
    stillRunning: (r: JobRecord) => boolean = () => false,
    endedWhileClosed: (r: JobRecord) => JobSnapshot | undefined = () => undefined,
  ): Promise<Recovered> {
    const live: JobRecord[] = [];
    const ended: JobSnapshot[] = [];
    const queued: JobRecord[] = [];
    const records: JobRecord[] = [];
    let changed = false;
    for (const r of this.all()) {
      if (r.phase === 'running' && stillRunning(r)) {
        live.push(r);
        records.push(r);
        continue;
      }
      if (r.phase === 'queued') {
        if (!otherHostAlive(r)) queued.push(r);
        records.push(r);
        continue;
      }
      const end = r.phase === 'running' ? endedWhileClosed(r) : undefined;
      if (end) {
        ended.push(end);
        changed = true;
        // As after any run: a done job's output is its record; a failed or cancelled one stays (resume, the tree).
        if (end.phase !== 'done') records.push(recordOf(end, r.args, r.env, { device: r.device }));
        continue;
      }
      if (r.phase === 'running') {
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
    return { live, ended, queued, queuePaused: await this.recoverPause() };
  }

  /** Records the queue's Pause for this window, so that a reload (or the next window) finds it as it was left. */
  async setQueuePaused(paused: boolean): Promise<void> {
    await this.store.update(PAUSED_KEY, { paused, hostPid: process.pid });
  }

  /** A pause left by a window that is gone is this window's now (as its waiting jobs are); another open one's is not. */
  private async recoverPause(): Promise<boolean> {
    const raw = this.store.get<{ paused?: unknown; hostPid?: unknown }>(PAUSED_KEY);
    if (raw?.paused !== true) return false;
    if (otherHostAlive({ hostPid: typeof raw.hostPid === 'number' ? raw.hostPid : undefined })) return false;
    await this.setQueuePaused(true);
    return true;
  }

  async record(job: JobSnapshot, args: string[], env: Record<string, string>, extra: RecordExtra = {}): Promise<void> {
    const others = this.all().filter((r) => r.output !== job.output);
    await this.store.update(
      KEY,
      job.phase === 'done' ? others : [...others, recordOf(job, args, env, extra)].slice(-MAX_RECORDS),
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
function recordOf(job: JobSnapshot, args: string[], env: Record<string, string>, extra: RecordExtra): JobRecord {
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
    device: extra.device,
    ...(job.phase === 'queued' && { hostPid: process.pid }),
    ...(job.phase === 'running' && job.pid !== undefined && { pid: job.pid, eventsFile: extra.eventsFile }),
  };
}

function isRecord(v: unknown): v is JobRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.id === 'string' && typeof r.input === 'string' && typeof r.output === 'string' && Array.isArray(r.args)
  );
}
