import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { version } from '../../../package.json';
import { type EngineEvent, ExitCode } from '../../protocol/engine-events';
import { GPU_ENV } from '../device/gpu-choice';
import type { Emit } from '../events';
import { shownOwner } from './farm-owner';
import {
  cancelKey,
  closeFarm,
  connectFarm,
  ownerKey,
  RANGES_QUEUE,
  type RangeJobData,
  type RangeJobProgress,
  unlessRedisAway,
  watchFarm,
  workerName,
} from './farm-queue';
import { mapPath, type PathMapping } from './path-map';
import { type RangeChildResult, RangeEngine } from './range-child';

/** How long a refused range waits before a worker (maybe this one, after a fix) takes it again. */
const REFUSED_DELAY_MS = 2000;
const PROGRESS_EVERY_MS = 500;
/** How long a worker's engine (its model loaded) waits for another range of its job before it ends. */
const ENGINE_IDLE_MS = 30000;

export interface FarmWorkerOptions {
  url: string;
  maps: PathMapping[];
  /** Options this host adds to every range (--ep, --threads); `device` is the GPU its engines open (HUAJU4K_GPU). */
  extraArgs: string[];
  device?: string;
  emit: Emit;
  signal: AbortSignal;
  /** BullMQ's lock: a worker that stops renewing it (killed) has its range back in the queue after this. */
  lockMs: number;
}

/** Reasons a range's engine gives for not running here that another host may not have: the range goes to another. */
const HOST_REASONS = /^(farm-|model-|job-running$|input-unreadable$)/;

/**
 * `huaju4k worker --farm redis://…`: takes range jobs from the farm's queue one at a time and runs each as
 * `enhance --range` in an engine child, reporting its frames through the job's progress. BullMQ does the rest: a
 * failed range is retried with backoff, a worker that dies stops renewing its lock and its range goes back (stalled
 * check) to be resumed from its last complete segment. A range this host cannot run (another version, source or
 * work folder out of reach, other pixel settings) is refused with the reason and left to another worker.
 */
export async function runFarmWorker(o: FarmWorkerOptions): Promise<void> {
  const redis = await connectFarm(o.url);
  const me = workerName();
  const engines = new EngineKeeper(o.device);
  const worker = new Worker<RangeJobData>(RANGES_QUEUE, (job, token) => runRangeJob(job, token, o, redis, engines), {
    connection: redis,
    concurrency: 1,
    lockDuration: o.lockMs,
    stalledInterval: Math.max(1000, Math.round(o.lockMs / 2)),
    maxStalledCount: 5,
  });
  worker.on('error', watchFarm(redis, o.url, o.emit, 'farm-worker'));
  o.emit({ type: 'warning', code: 'farm-worker-ready', message: `${me}: huaju4k ${version} takes ranges` });
  await new Promise<void>((resolve) => {
    if (o.signal.aborted) resolve();
    o.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  engines.stop();
  // BullMQ's close hands the active range back through Redis: a Redis that is away would keep this worker forever.
  // Nothing is lost by not waiting: the range's lock lapses and the stalled check gives it to another worker.
  await unlessRedisAway(redis, worker.close());
  await engines.close();
  await closeFarm(redis);
}

async function runRangeJob(
  job: Job<RangeJobData>,
  token: string | undefined,
  o: FarmWorkerOptions,
  redis: Redis,
  engines: EngineKeeper,
): Promise<{ frames: number; worker: string }> {
  const me = workerName();
  const d = job.data;
  const refuse = async (why: string): Promise<never> => {
    const p: RangeJobProgress = { worker: me, state: 'refused', frames: 0, total: 0, message: why };
    // Back in the queue first (no attempt used), then said: whoever hears it finds the job delayed.
    await job.moveToDelayed(Date.now() + REFUSED_DELAY_MS, token);
    await job.updateProgress({ ...p });
    throw new DelayedError();
  };
  if (d.engine !== version) await refuse(`${me} runs huaju4k ${version}, the job needs ${d.engine}`);
  if (await redis.exists(cancelKey(d.key))) throw new UnrecoverableError('cancelled');
  const holder = d.owner ? await redis.get(ownerKey(d.key)) : null;
  if (holder && holder !== d.owner) {
    throw new UnrecoverableError(
      `superseded: the job is coordinated by ${shownOwner(holder)} now, not this range's run`,
    );
  }
  const input = mapPath(d.input, o.maps);
  const output = mapPath(d.output, o.maps);
  const why = await unreachable(input, output, d);
  if (why) await refuse(`${me}: ${why}`);
  const result = await runChild(job, redis, engines, [...d.options, ...o.extraArgs, '-o', output, '--', input]);
  if (result.code === 0) return { frames: result.frames, worker: me };
  if (await redis.exists(cancelKey(d.key))) throw new UnrecoverableError('cancelled');
  const e = result.error;
  if (e && HOST_REASONS.test(e.reason)) await refuse(`${me}: ${e.message}`);
  const message = `${me}: ${e?.message ?? (result.signal ? `the engine was killed (${result.signal})` : result.stderr)}`;
  if (e?.code === ExitCode.badInput) throw new UnrecoverableError(message);
  throw new Error(message);
}

/** Why this host cannot run the range (the source or the work folder out of reach), naming the paths. */
async function unreachable(input: string, output: string, d: RangeJobData): Promise<string | undefined> {
  const mapped = (local: string, theirs: string) => (local === theirs ? '' : ` (the coordinator's ${theirs})`);
  try {
    await access(input, constants.R_OK);
  } catch (err) {
    return `cannot read the source ${input}${mapped(input, d.input)}: ${(err as NodeJS.ErrnoException).code}; map the shared folder with --path-map`;
  }
  try {
    await access(dirname(output), constants.W_OK);
  } catch (err) {
    return `cannot write the work folder in ${dirname(output)}${mapped(output, d.output)}: ${(err as NodeJS.ErrnoException).code}`;
  }
  return undefined;
}

/**
 * This worker's range engine, kept from one range to the next while they belong to the same farm job with the same
 * options (the model stays loaded); a range of another job, an engine that exited, or ENGINE_IDLE_MS without a range
 * starts a new one.
 */
class EngineKeeper {
  private engine: { key: string; engine: RangeEngine } | undefined;
  private idle: NodeJS.Timeout | undefined;

  constructor(private readonly device: string | undefined) {}

  async get(key: string, options: string[]): Promise<RangeEngine> {
    clearTimeout(this.idle);
    const k = JSON.stringify([key, options]);
    if (this.engine?.key === k && this.engine.engine.alive) return this.engine.engine;
    await this.close();
    const env = this.device !== undefined ? { [GPU_ENV]: this.device } : {};
    this.engine = { key: k, engine: new RangeEngine(options, env) };
    return this.engine.engine;
  }

  /** A range ended: the engine waits for the next one, not forever. */
  release(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => void this.close(), ENGINE_IDLE_MS);
    this.idle.unref();
  }

  /** Stops the engine's range now (SIGTERM: it keeps its finished segments; the range resumes elsewhere). */
  stop(): void {
    this.engine?.engine.kill('SIGTERM');
  }

  async close(): Promise<void> {
    clearTimeout(this.idle);
    const e = this.engine?.engine;
    this.engine = undefined;
    await e?.close();
  }
}

/** The range on this worker's engine, its progress sent to the job (throttled); a cancel of the job stops it. */
async function runChild(
  job: Job<RangeJobData>,
  redis: Redis,
  engines: EngineKeeper,
  options: string[],
): Promise<RangeChildResult> {
  const me = workerName();
  let last = 0;
  const report = (p: Omit<RangeJobProgress, 'worker'>) => {
    job.updateProgress({ worker: me, ...p }).catch(() => undefined);
  };
  const engine = await engines.get(job.data.key, options);
  report({ state: 'started', frames: 0, total: 0, engine: engine.pid });
  try {
    return await engine.run(job.data.range, (e: EngineEvent) => {
      if (e.type === 'segment') report({ state: 'segment', frames: e.endFrame + 1, total: 0 });
      if (e.type !== 'progress' || Date.now() - last < PROGRESS_EVERY_MS) return;
      last = Date.now();
      report({ state: 'progress', frames: e.frame, total: e.total, fps: e.fps });
      redis.exists(cancelKey(job.data.key)).then(
        (n) => (n ? engine.kill('SIGTERM') : undefined),
        () => undefined,
      );
    });
  } finally {
    engines.release();
  }
}
