import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { version } from '../../../package.json';
import { type EngineEvent, ExitCode } from '../../protocol/engine-events';
import { GPU_ENV } from '../device/gpu-choice';
import type { Emit } from '../events';
import {
  cancelKey,
  connectFarm,
  RANGES_QUEUE,
  type RangeJobData,
  type RangeJobProgress,
  workerName,
} from './farm-queue';
import { mapPath, type PathMapping } from './path-map';
import { type RangeChildResult, startRangeChild } from './range-child';

/** How long a refused range waits before a worker (maybe this one, after a fix) takes it again. */
const REFUSED_DELAY_MS = 2000;
const PROGRESS_EVERY_MS = 500;

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
  const active = new Set<{ kill: () => void }>();
  const worker = new Worker<RangeJobData>(RANGES_QUEUE, (job, token) => runRangeJob(job, token, o, redis, active), {
    connection: redis,
    concurrency: 1,
    lockDuration: o.lockMs,
    stalledInterval: Math.max(1000, Math.round(o.lockMs / 2)),
    maxStalledCount: 5,
  });
  worker.on('error', (err) => o.emit({ type: 'warning', code: 'farm-worker', message: err.message }));
  o.emit({ type: 'warning', code: 'farm-worker-ready', message: `${me}: huaju4k ${version} takes ranges` });
  await new Promise<void>((resolve) => {
    if (o.signal.aborted) resolve();
    o.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  for (const a of active) a.kill();
  await worker.close();
  await redis.quit().catch(() => undefined);
}

async function runRangeJob(
  job: Job<RangeJobData>,
  token: string | undefined,
  o: FarmWorkerOptions,
  redis: Redis,
  active: Set<{ kill: () => void }>,
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
  const input = mapPath(d.input, o.maps);
  const output = mapPath(d.output, o.maps);
  const why = await unreachable(input, output, d);
  if (why) await refuse(`${me}: ${why}`);
  const result = await runChild(job, o, redis, active, [...d.options, ...o.extraArgs, '-o', output, '--', input]);
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

/** The range's engine child, its progress sent to the job (throttled); a cancel of the job stops it. */
async function runChild(
  job: Job<RangeJobData>,
  o: FarmWorkerOptions,
  redis: Redis,
  active: Set<{ kill: () => void }>,
  options: string[],
): Promise<RangeChildResult & { frames: number }> {
  const me = workerName();
  let frames = 0;
  let last = 0;
  const report = (p: Omit<RangeJobProgress, 'worker'>) => {
    job.updateProgress({ worker: me, ...p }).catch(() => undefined);
  };
  const argv = ['enhance', '--json', '--range', job.data.range, ...options];
  const env = o.device !== undefined ? { [GPU_ENV]: o.device } : {};
  const started = startRangeChild(argv, env, (e: EngineEvent) => {
    if (e.type === 'range' && e.state === 'done') frames = e.frames;
    if (e.type === 'segment') report({ state: 'segment', frames: e.endFrame + 1, total: 0 });
    if (e.type !== 'progress' || Date.now() - last < PROGRESS_EVERY_MS) return;
    last = Date.now();
    report({ state: 'progress', frames: e.frame, total: e.total, fps: e.fps });
    redis.exists(cancelKey(job.data.key)).then(
      (n) => (n ? started.child.kill('SIGTERM') : undefined),
      () => undefined,
    );
  });
  report({ state: 'started', frames: 0, total: 0 });
  const handle = { kill: () => started.child.kill('SIGTERM') };
  active.add(handle);
  try {
    return { ...(await started.result), frames };
  } finally {
    active.delete(handle);
  }
}
