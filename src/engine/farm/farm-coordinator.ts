import { FlowProducer, Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { version } from '../../../package.json';
import { ExitCode } from '../../protocol/engine-events';
import { CancelledError, EngineError } from '../errors';
import type { Emit } from '../events';
import { framesByRange, rangeFrames, rangesToRun } from './collect-ranges';
import type { FarmJob } from './farm-job';
import { ownerValue } from './farm-owner';
import { FarmProgress } from './farm-progress';
import {
  cancelKey,
  farmJobKey,
  joinQueueName,
  RANGES_QUEUE,
  type RangeJobData,
  type RangeJobProgress,
  unlessRedisAway,
} from './farm-queue';
import { type FrameRange, rangeName } from './ranges';

export { claimFarmJob } from './farm-owner';

/** Tries of a range on the farm (BullMQ attempts, exponential backoff from 2 s). */
export const FARM_RANGE_ATTEMPTS = 4;

export interface FarmCoordinatorOptions {
  redis: Redis;
  job: FarmJob;
  input: string;
  output: string;
  /** The enhance options of the job without paths and without the ones that split it. */
  options: string[];
  emit: Emit;
  signal?: AbortSignal;
  /** Where BullMQ's objects report their errors (farm-queue.ts `watchFarm`: an outage is said once). */
  onError: (err: Error) => void;
}

/**
 * Queues the job's unfinished ranges as one BullMQ flow (range jobs as children, the join as their parent, on a
 * queue only this coordinator works) and follows them through the ranges queue's events until the parent becomes
 * ready: the ranges are done and the caller joins (run-job.ts). One coordinator per output (a Redis key it holds).
 *
 * A Redis that restarts without its data (no persistence) loses the queued flow: when the connection is back and
 * the flow is gone, the ranges still unfinished on disk are queued again (each resumes from its last complete
 * segment; a range a worker is still running stays locked to it until it ends). A Redis that kept its data (AOF,
 * RDB) still has the flow, and BullMQ goes on with it.
 */
export async function runFarmRanges(o: FarmCoordinatorOptions): Promise<FarmProgress> {
  const { job, emit } = o;
  const key = farmJobKey(job.plan.output);
  const progress = new FarmProgress(job.plan.total, emit, framesByRange(job.plan.dir, job.ranges));
  for (let lost = false; ; lost = true) {
    const pending = rangesToRun(job.plan.dir, job.ranges);
    if (lost) {
      const what =
        pending.length === 0
          ? 'every range had finished meanwhile, nothing is queued again'
          : `${pending.length === 1 ? 'the 1 unfinished range is' : `the ${pending.length} unfinished ranges are`} queued again and resume from their finished segments`;
      const message = `the farm's Redis came back without this job's queued ranges (restarted without persistence?): ${what}`;
      emit({ type: 'warning', code: 'farm-queue-lost', message });
    }
    if (pending.length === 0) return progress;
    const parts = await queueFlow(o, key, pending, progress);
    let outcome: FlowOutcome;
    try {
      outcome = await parts.finished;
    } finally {
      await parts.close();
    }
    if (outcome === 'joined') return progress;
  }
}

/** How a flow ended: its join became ready, or Redis lost it (restarted without its data). */
type FlowOutcome = 'joined' | 'lost';

interface FlowParts {
  finished: Promise<FlowOutcome>;
  close: () => Promise<void>;
}

async function queueFlow(o: FarmCoordinatorOptions, key: string, pending: FrameRange[], progress: FarmProgress) {
  const connection = o.redis;
  await connection.del(cancelKey(key));
  const run = `${key}-${Date.now().toString(36)}`;
  const ids = new Map(pending.map((r) => [`${run}-${r.firstSegment}`, r]));
  // QueueEvents blocks on its connection: its own, closed with it.
  const eventsConnection = connection.duplicate();
  const events = new QueueEvents(RANGES_QUEUE, { connection: eventsConnection });
  const queue = new Queue(RANGES_QUEUE, { connection });
  await events.waitUntilReady();
  let join: Worker | undefined;
  const joins = new Queue(joinQueueName(key), { connection });
  let onReady: (() => void) | undefined;
  const finished = new Promise<FlowOutcome>((resolve, reject) => {
    followRanges(o, events, queue, ids, progress, reject);
    join = new Worker(joinQueueName(key), async () => resolve('joined'), { connection, concurrency: 1 });
    events.on('error', o.onError);
    queue.on('error', o.onError);
    joins.on('error', o.onError);
    join.on('error', o.onError);
    // A reconnect (Redis restarted): is the flow still there?
    onReady = () => {
      joins.getJob(run).then(
        (j) => (j ? undefined : resolve('lost')),
        () => undefined,
      );
    };
    connection.on('ready', onReady);
    o.signal?.addEventListener('abort', () => cancelFlow(o, key, queue, ids, run).finally(() => reject(cancelled(o))), {
      once: true,
    });
  });
  const flow = new FlowProducer({ connection });
  flow.on('error', o.onError);
  await flow.add({
    name: 'join',
    queueName: joinQueueName(key),
    data: { key },
    opts: { jobId: run, removeOnComplete: true, removeOnFail: true },
    children: [...ids].map(([jobId, r]) => ({
      name: `range ${rangeName(r)}`,
      queueName: RANGES_QUEUE,
      data: rangeJobData(o, key, r),
      opts: {
        jobId,
        attempts: FARM_RANGE_ATTEMPTS,
        backoff: { type: 'exponential', delay: 2000 },
        failParentOnFailure: true,
        removeOnComplete: true,
        removeOnFail: true,
      },
    })),
  });
  const close = async () => {
    if (onReady) connection.off('ready', onReady);
    // BullMQ's close waits for Redis; a Redis that is away would keep the coordinator forever.
    const closing = Promise.allSettled([join?.close(), events.close(), flow.close(), queue.close(), joins.close()]);
    await unlessRedisAway(connection, closing);
    eventsConnection.disconnect();
  };
  return { finished, close } satisfies FlowParts;
}

const cancelled = (o: FarmCoordinatorOptions) => new CancelledError(String(o.signal?.reason ?? 'signal'));

function rangeJobData(o: FarmCoordinatorOptions, key: string, r: FrameRange): RangeJobData {
  const owner = ownerValue();
  return { key, engine: version, range: rangeName(r), input: o.input, output: o.output, options: o.options, owner };
}

/** Range events from BullMQ's: progress and hand-overs reported by the workers, retries, stalls, the end. */
function followRanges(
  o: FarmCoordinatorOptions,
  events: QueueEvents,
  queue: Queue,
  ids: Map<string, FrameRange>,
  progress: FarmProgress,
  fail: (err: Error) => void,
): void {
  const frames = (r: FrameRange) => rangeFrames(o.job.plan.dir, r);
  events.on('progress', ({ jobId, data }) => {
    const r = ids.get(jobId);
    if (!r || typeof data !== 'object' || data === null) return;
    const p = data as unknown as RangeJobProgress;
    if (p.state === 'refused') {
      o.emit({ type: 'warning', code: 'farm-range-refused', message: `range ${rangeName(r)}: ${p.message}` });
      progress.update(r, p.worker, frames(r), 'refused', { message: p.message });
    } else if (p.state === 'progress') progress.update(r, p.worker, p.frames);
    else {
      const extra = { ...(p.fps !== undefined && { fps: p.fps }), ...(p.engine !== undefined && { pid: p.engine }) };
      progress.update(r, p.worker, frames(r), p.state, extra);
    }
  });
  events.on('completed', ({ jobId, returnvalue }) => {
    const r = ids.get(jobId);
    const worker = (returnvalue as unknown as { worker?: string } | undefined)?.worker ?? 'a worker';
    if (r) progress.update(r, worker, frames(r), 'done');
  });
  events.on('stalled', ({ jobId }) => {
    const r = ids.get(jobId);
    const message = 'its worker stopped answering (killed or lost): the range goes back to the queue';
    if (r) progress.update(r, 'lost worker', frames(r), 'retry', { message });
  });
  followRetries(events, queue, ids, (r, message) => progress.update(r, 'a worker', frames(r), 'retry', { message }));
  events.on('failed', ({ jobId, failedReason }) => {
    const r = ids.get(jobId);
    if (!r) return;
    queue.getJob(jobId).then(
      async (j) => {
        const final = !j || (await j.isFailed());
        progress.update(r, 'a worker', frames(r), final ? 'failed' : 'retry', { message: failedReason });
        if (final) fail(rangeFailed(r, failedReason));
      },
      () => undefined,
    );
  });
}

/**
 * A failed try that BullMQ will make again is no `failed` event: the range is moved to delayed (its backoff) with one
 * attempt more made and the reason kept. A refusal moves it to delayed too, without using an attempt: not a retry.
 */
function followRetries(
  events: QueueEvents,
  queue: Queue,
  ids: Map<string, FrameRange>,
  retry: (r: FrameRange, why: string) => void,
): void {
  const attempts = new Map<string, number>();
  events.on('delayed', ({ jobId }) => {
    const r = ids.get(jobId);
    if (!r) return;
    queue.getJob(jobId).then(
      (j) => {
        if (!j || j.attemptsMade <= (attempts.get(jobId) ?? 0)) return;
        attempts.set(jobId, j.attemptsMade);
        retry(r, `try ${j.attemptsMade} of ${j.opts.attempts ?? 1} failed: ${j.failedReason}`);
      },
      () => undefined,
    );
  });
}

function rangeFailed(r: FrameRange, why: string): EngineError {
  return new EngineError(
    ExitCode.failure,
    'farm-range-failed',
    `range ${rangeName(r)} failed on the farm: ${why}`,
    'the finished segments are kept: fix the cause, then run again with --resume',
  );
}

/**
 * Every range stops: workers see the cancel key and stop their engines; queued ranges are removed. A Redis that is
 * away cannot carry the cancel: the coordinator does not wait for it, and says what goes on without it.
 */
async function cancelFlow(
  o: FarmCoordinatorOptions,
  key: string,
  queue: Queue,
  ids: Map<string, FrameRange>,
  run: string,
) {
  const tell = async () => {
    await o.redis.set(cancelKey(key), '1', 'PX', 3600_000);
    for (const id of ids.keys()) await queue.remove(id).catch(() => 0);
    const joins = new Queue(joinQueueName(key), { connection: o.redis });
    joins.on('error', o.onError);
    await joins.remove(run, { removeChildren: true }).catch(() => 0);
    await joins.close();
    return true;
  };
  const told = await unlessRedisAway(
    o.redis,
    tell().catch(() => false),
  );
  if (told) return;
  o.emit({
    type: 'warning',
    code: 'farm-cancel-unsent',
    message:
      "the farm's Redis does not answer, so the workers could not be told to stop: a range a worker is running goes on until it ends or that worker is stopped, and the job's queued ranges stay queued (with a Redis that keeps its data, workers may take them when it is back); every finished segment is kept for --resume",
  });
}
