import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { type EngineEvent, previewFileFor } from '../../protocol/engine-events';
import { type Disposable, Emitter } from '../emitter';
import { AttachedEngine, engineStillRunning } from '../engine/attached-engine';
import { claimEngine, claimFileFor } from '../engine/engine-claim';
import { engineEventLog, engineExitLog, type LogLevel } from '../engine/engine-log';
import { type EngineHandle, type EngineListener, EngineProcess } from '../engine/engine-process';
import type { JobJournal, JobRecord } from './job-journal';
import { JobQueue, slotsOf } from './job-queue';
import { applyEngineEvent, applyExit, isFinished, type JobSnapshot, newJob } from './job-state';

export interface JobRequest {
  input: string;
  output: string;
  /** argv after the engine script, e.g. from `buildEnhanceArgs` (plus `--resume` when resuming). */
  args: string[];
  env?: Record<string, string>;
  /** Queue key: jobs on the same device run one after another (by default). */
  device: string;
}

export interface JobManagerOptions {
  enginePath: string;
  execPath?: string;
  perDevice: number;
  journal?: JobJournal;
  log?: (jobId: string, line: string, level: LogLevel) => void;
  now?: () => number;
  cancelGraceMs?: number;
  /**
   * A folder for the engines' event files. With it, engines outlive this host (a window reload does not stop a job)
   * and `adopt` re-attaches them; without it, `dispose` kills them.
   */
  stateDir?: string;
  /**
   * Secret environment for a job's engine, added at spawn time only (never journaled, never in argv): the farm
   * password of a `--farm` job.
   */
  secretEnv?: (args: readonly string[]) => Record<string, string>;
  /** The pid that claims engines for this window (engine-claim.ts): the extension host's; tests stand in others. */
  hostPid?: number;
}

interface JobEntry {
  snapshot: JobSnapshot;
  request: JobRequest;
  process?: EngineHandle;
  eventsFile?: string;
  /** This host let go of the engine (it runs on for the next window): nothing it does is ours to record. */
  detached?: boolean;
  cancelRequested: boolean;
  done: Promise<JobSnapshot>;
  resolveDone: (s: JobSnapshot) => void;
}

/** How often a job running in another window is checked on (ended there, or that window gone). */
const ELSEWHERE_CHECK_MS = 2000;

/** Runs engine jobs: queue per device, one forked engine per job, snapshots for the UI, journal for resume. */
export class JobManager implements Disposable {
  private readonly entries = new Map<string, JobEntry>();
  private readonly queue: JobQueue;
  private readonly changed = new Emitter<JobSnapshot>();
  private readonly events = new Emitter<{ jobId: string; event: EngineEvent }>();
  private readonly queueChanged = new Emitter<void>();
  private seq = 0;
  private disposed = false;
  /** Engines another open window follows (its claim, engine-claim.ts): shown, not ours; taken over if it closes. */
  private readonly elsewhere = new Map<string, JobRecord>();
  private elsewhereTimer: NodeJS.Timeout | undefined;

  /** Fires whenever a job's snapshot changes (queued, progress, finished). */
  readonly onDidChangeJob = this.changed.event;
  /** Every engine event, for the monitor panel. */
  readonly onEngineEvent = this.events.event;
  /** The waiting line changed order, or the queue was paused or resumed. */
  readonly onDidChangeQueue = this.queueChanged.event;

  private readonly hostPid: number;

  constructor(private readonly opts: JobManagerOptions) {
    this.queue = new JobQueue(opts.perDevice);
    this.hostPid = opts.hostPid ?? process.pid;
  }

  setPerDevice(n: number): void {
    this.queue.setPerDevice(n);
    this.pump();
  }

  enqueue(request: JobRequest): JobSnapshot {
    const id = `job-${Date.now().toString(36)}-${++this.seq}`;
    return this.addToQueue(newJob(id, request.input, request.output, this.now()), request);
  }

  /**
   * Queues again a job that was waiting in line when the window reloaded (the journal kept it): same id, same
   * arguments, its place by when it was first queued. Call after `adopt`, so that re-attached engines count.
   */
  requeue(record: JobRecord): JobSnapshot {
    const request = { input: record.input, output: record.output, args: record.args, env: record.env };
    const job = newJob(record.id, record.input, record.output, record.startedAt);
    return this.addToQueue(job, { ...request, device: record.device ?? 'default' });
  }

  private addToQueue(snapshot: JobSnapshot, request: JobRequest): JobSnapshot {
    if (this.disposed) throw new Error('huaju4k is shutting down');
    const active = this.activeFor(request.output);
    if (active) throw new Error(`${request.output} is already being written by job ${active.snapshot.id}.`);
    const entry = this.newEntry(snapshot, request);
    this.queue.enqueue(snapshot.id, request.device, slotsOf(request.args));
    this.update(entry, entry.snapshot);
    this.pump();
    return entry.snapshot;
  }

  private newEntry(snapshot: JobSnapshot, request: JobRequest, eventsFile?: string): JobEntry {
    let resolveDone: (s: JobSnapshot) => void = () => {};
    const done = new Promise<JobSnapshot>((r) => (resolveDone = r));
    const entry: JobEntry = { snapshot, request, eventsFile, cancelRequested: false, done, resolveDone };
    this.entries.set(snapshot.id, entry);
    return entry;
  }

  get(id: string): JobSnapshot | undefined {
    return this.entries.get(id)?.snapshot;
  }

  jobs(): JobSnapshot[] {
    return [...this.entries.values()].map((e) => e.snapshot);
  }

  /** The newest job for an input, if any ran in this session. */
  latestFor(input: string): JobSnapshot | undefined {
    let best: JobSnapshot | undefined;
    for (const e of this.entries.values()) {
      if (e.snapshot.input === input && (!best || e.snapshot.startedAt >= best.startedAt)) best = e.snapshot;
    }
    return best;
  }

  queuePosition(id: string): number {
    return this.queue.position(id);
  }

  /** Waiting jobs in the order they will start. */
  queuedIds(): string[] {
    return this.queue.waitingIds;
  }

  get queuePaused(): boolean {
    return this.queue.isPaused;
  }

  /** Pausing starts nothing new (running jobs go on); resuming starts what may start. Journaled: a reload keeps it. */
  pauseQueue(paused: boolean): void {
    this.queue.setPaused(paused);
    void this.opts.journal?.setQueuePaused(paused);
    this.queueChanged.fire();
    this.pump();
  }

  /** Moves a waiting job `by` places (negative: sooner; `-Infinity`: next). False when it is not waiting. */
  moveInQueue(id: string, by: number): boolean {
    if (!this.queue.move(id, by)) return false;
    this.queueChanged.fire();
    // Every waiting job's place in line may have changed: the views re-read them, and the journal records them again
    // in the new order (it keeps records in the order written: a reload queues them again in that order).
    for (const waiting of this.queue.waitingIds) {
      const e = this.entries.get(waiting);
      if (e) this.update(e, e.snapshot);
    }
    return true;
  }

  whenFinished(id: string): Promise<JobSnapshot> {
    const e = this.entries.get(id);
    if (!e) return Promise.reject(new Error(`unknown job ${id}`));
    return e.done;
  }

  /** Cancels a job; one still waiting ends at once, with `why` as its message when given (the history shows it). */
  cancel(id: string, why?: string): boolean {
    const e = this.entries.get(id);
    if (!e || isFinished(e.snapshot.phase)) return false;
    e.cancelRequested = true;
    if (this.queue.remove(id)) {
      const end = applyExit(e.snapshot, null, null, true, this.now());
      this.finish(e, why && end.failure ? { ...end, failure: { ...end.failure, message: why } } : end);
      return true;
    }
    this.log(id, 'cancel requested: stopping the engine', 'info');
    e.process?.cancel(this.opts.cancelGraceMs);
    return true;
  }

  /** Drops an ended job from this session's list (one removed from the queue before it ran). */
  forget(id: string): boolean {
    const e = this.entries.get(id);
    if (!e || !isFinished(e.snapshot.phase)) return false;
    this.entries.delete(id);
    this.queueChanged.fire();
    return true;
  }

  /**
   * Deactivate. Engines that keep an events file go on running (the next host re-attaches them); the others are
   * killed with their process trees, and their exits awaited briefly.
   */
  async dispose(): Promise<void> {
    this.disposed = true;
    clearInterval(this.elsewhereTimer);
    const exits: Promise<unknown>[] = [];
    for (const e of this.entries.values()) {
      if (isFinished(e.snapshot.phase)) continue;
      this.queue.remove(e.snapshot.id);
      if (e.process && e.eventsFile) {
        e.detached = true;
        e.process.detach();
        continue;
      }
      e.cancelRequested = true;
      if (e.process) {
        e.process.kill();
        exits.push(e.process.exit);
      }
    }
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 3000))]);
    this.changed.dispose();
    this.events.dispose();
    this.queueChanged.dispose();
  }

  /**
   * Takes over a job whose engine an earlier host started and that is still running (after a window reload): its
   * state is rebuilt from the engine's events file and followed from there; Cancel works as for any job.
   */
  adopt(record: JobRecord): JobSnapshot | undefined {
    if (this.disposed || !record.pid || !record.eventsFile) return undefined;
    // Only one window follows an engine: while another open window has claimed it, it is shown as running there.
    if (!claimEngine(record.eventsFile, this.hostPid)) {
      this.followElsewhere(record);
      return undefined;
    }
    const device = record.device ?? 'default';
    const request = { input: record.input, output: record.output, args: record.args, env: record.env, device };
    const snapshot: JobSnapshot = {
      ...newJob(record.id, record.input, record.output, record.startedAt),
      phase: 'running',
    };
    const entry = this.newEntry(snapshot, request, record.eventsFile);
    // It runs on its device as any job this host started: the next job there waits for it (jobs per device).
    this.queue.adoptRunning(record.id, device, slotsOf(record.args));
    this.log(record.id, `re-attached to the running engine (pid ${record.pid}) after a reload`, 'info');
    entry.process = new AttachedEngine(record.pid, record.eventsFile, this.listenerFor(entry));
    this.update(entry, { ...entry.snapshot, pid: record.pid });
    return entry.snapshot;
  }

  /** Jobs whose engine runs, followed by another open window (not this one's to count, cancel or record). */
  runningElsewhere(): JobRecord[] {
    return [...this.elsewhere.values()];
  }

  /**
   * Notes a job another window follows and checks on it every few seconds: once its engine has ended it is dropped
   * (that window records how it ended); once that window is gone (its claim stale) this one takes the engine over.
   */
  private followElsewhere(record: JobRecord): void {
    this.elsewhere.set(record.id, record);
    this.log(record.id, `running in another window (pid ${record.pid}): shown here, followed there`, 'info');
    this.queueChanged.fire();
    this.elsewhereTimer ??= setInterval(() => this.checkElsewhere(), ELSEWHERE_CHECK_MS);
    this.elsewhereTimer.unref?.();
  }

  private checkElsewhere(): void {
    for (const [id, r] of this.elsewhere) {
      if (engineStillRunning(r.pid, r.output) && !claimEngine(r.eventsFile ?? '', this.hostPid)) continue;
      this.elsewhere.delete(id);
      this.queueChanged.fire();
      if (engineStillRunning(r.pid, r.output)) this.adopt(r);
    }
    if (this.elsewhere.size === 0) {
      clearInterval(this.elsewhereTimer);
      this.elsewhereTimer = undefined;
    }
  }

  private activeFor(output: string): JobEntry | undefined {
    for (const e of this.entries.values()) {
      if (e.request.output === output && !isFinished(e.snapshot.phase)) return e;
    }
    return undefined;
  }

  private pump(): void {
    if (this.disposed) return;
    for (const id of this.queue.takeReady()) {
      const e = this.entries.get(id);
      if (e) this.start(e);
    }
  }

  private start(e: JobEntry): void {
    const id = e.snapshot.id;
    this.log(id, `starting engine: ${e.request.args.join(' ')}`, 'info');
    e.eventsFile = this.opts.stateDir ? path.join(this.opts.stateDir, `${id}.events.jsonl`) : undefined;
    if (this.opts.stateDir) mkdirSync(this.opts.stateDir, { recursive: true });
    try {
      e.process = new EngineProcess(
        {
          enginePath: this.opts.enginePath,
          execPath: this.opts.execPath,
          args: e.request.args,
          env: { ...e.request.env, ...this.opts.secretEnv?.(e.request.args) },
          eventsFile: e.eventsFile,
        },
        this.listenerFor(e),
      );
      // This window follows the engine it started (a window opened meanwhile shows it as running elsewhere).
      if (e.eventsFile) claimEngine(e.eventsFile, this.hostPid);
      this.update(e, { ...e.snapshot, phase: 'running', pid: e.process.pid, startedAt: this.now() });
    } catch (err) {
      this.finish(e, {
        ...e.snapshot,
        phase: 'failed',
        failure: { exitCode: null, signal: null, reason: 'spawn-failed', message: (err as Error).message },
      });
    }
  }

  private listenerFor(e: JobEntry): EngineListener {
    const id = e.snapshot.id;
    return {
      onEvent: (ev) => {
        if (e.detached) return;
        this.events.fire({ jobId: id, event: ev });
        const logged = engineEventLog(ev, e.snapshot, e.cancelRequested);
        if (logged) this.log(id, logged.line, logged.level);
        const next = applyEngineEvent(e.snapshot, ev);
        if (next !== e.snapshot) this.update(e, next);
      },
      onLog: (line, stream) => this.log(id, line, stream === 'stderr' ? 'warn' : 'info'),
      onExit: (code, signal) => {
        if (e.detached) return;
        const end = applyExit(e.snapshot, code, signal, e.cancelRequested, this.now());
        const logged = engineExitLog(code, signal, end.phase);
        this.log(id, logged.line, logged.level);
        this.finish(e, end);
      },
    };
  }

  private finish(e: JobEntry, snapshot: JobSnapshot): void {
    this.queue.finished(snapshot.id);
    if (e.eventsFile) {
      rmSync(e.eventsFile, { force: true });
      rmSync(previewFileFor(e.eventsFile), { force: true });
      rmSync(claimFileFor(e.eventsFile), { force: true });
    }
    this.update(e, snapshot);
    e.resolveDone(snapshot);
    this.pump();
  }

  private update(e: JobEntry, snapshot: JobSnapshot): void {
    e.snapshot = snapshot;
    const persist = snapshot.phase !== 'running' || snapshot.frame === 0 || snapshot.frame % 25 === 0;
    if (persist) {
      const extra = { eventsFile: e.eventsFile, device: e.request.device };
      void this.opts.journal?.record(snapshot, e.request.args, e.request.env ?? {}, extra);
    }
    this.changed.fire(snapshot);
  }

  private log(jobId: string, line: string, level: LogLevel): void {
    this.opts.log?.(jobId, line, level);
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }
}
