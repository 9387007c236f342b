import { stat } from 'node:fs/promises';
import type { DoneEvent } from '../../protocol/engine-events';
import { framesDone } from '../checkpoint/manifest';
import { unlockWorkDir } from '../checkpoint/workdir';
import { checkedToolsEnv } from '../ffmpeg/ffmpeg-tools';
import { planJob } from '../pipeline/job-plan';
import { emitStart, runEnhance } from '../pipeline/pipeline';
import type { EnhanceContext, EnhanceOptions } from '../pipeline/pipeline-types';
import type { FarmArgs } from './farm-args';
import { rangeName, withoutFarmOptions } from './farm-args';
import { claimFarmJob, runFarmRanges } from './farm-coordinator';
import { type FarmJob, finishFarmJob, openFarmJob } from './farm-job';
import type { FarmProgress } from './farm-progress';
import { closeFarm, connectFarm, unlessRedisAway, watchFarm } from './farm-queue';
import { runLocalRanges, threadsPerChild, workerSlots } from './local-farm';
import { serveRanges } from './range-server';
import { runRange } from './run-range';

/** Ranges per worker: enough that a worker finishing early takes another, few enough that priming stays small. */
export const RANGES_PER_WORKER = 2;

/**
 * Ranges of a local split job when --ranges is not given: RANGES_PER_WORKER per slot, but one for a single slot —
 * there is no other worker to take a second range, which would only cost its priming (the frames before it run
 * through the model again).
 */
export const localRanges = (slots: number): number => (slots === 1 ? 1 : slots * RANGES_PER_WORKER);
/** Ranges of a farm job when --ranges is not given (the workers are not known when it is queued). */
export const FARM_RANGES = 16;

/**
 * What `enhance` runs: ranges of a farm job (`--range -`, the long-lived engine of a worker; `--range first:end`,
 * one), the whole job on local engine children (`--workers`, `--devices`), or the plain local run. `contextFor`
 * gives a run's context with a fresh temporal state: once per range for a range engine, once otherwise. `lostParent`
 * stops a range engine whose parent died mid-range (range-server.ts).
 */
export async function runJob(
  args: FarmArgs,
  argv: string[],
  opts: EnhanceOptions,
  contextFor: () => Promise<EnhanceContext>,
  lostParent: () => void,
): Promise<void> {
  if (args.rangesFromStdin) {
    await serveRanges(opts, contextFor, lostParent);
    return;
  }
  const ctx = await contextFor();
  if (args.range) {
    // A range keeps what the job's checkpoint pinned (tile, precision, encoder threads), as a resume does.
    const { frames } = await runRange({ ...opts, resume: true }, ctx, args.range);
    const worker = `pid ${process.pid}`;
    ctx.emit({ type: 'range', range: rangeName(args.range), worker, state: 'done', frames, total: frames });
    return;
  }
  if (args.workers !== undefined || args.devices !== undefined) {
    // Each engine is handed the ffmpeg this process checked (no second `-version` runs).
    const slots = workerSlots(args.workers, args.devices).map((s) => ({
      ...s,
      env: { ...checkedToolsEnv(ctx.tools), ...s.env },
    }));
    const job = openFarmJob(opts, ctx, args.ranges ?? localRanges(slots.length));
    const enhanceArgv = [...engineChoices(argv, ctx, slots.length), ...withoutFarmOptions(argv)];
    await runFarmJob(job, opts, ctx, (signal) => runLocalRanges({ job, slots, enhanceArgv, emit: ctx.emit, signal }));
    return;
  }
  if (args.farm) {
    await runOnFarm(args.farm, args.ranges ?? FARM_RANGES, opts, ctx);
    return;
  }
  await runEnhance(opts, ctx);
}

/**
 * What a local job's engines get on top of its options: the model threads shared out (unless --threads), and
 * `--ep cpu` where `--ep auto` ended on the CPU here — every GPU provider failed its probe on this machine a moment
 * ago, so each engine does not probe them again (the choice changes no pixel: the job pins the precision).
 */
function engineChoices(argv: string[], ctx: EnhanceContext, slots: number): string[] {
  const given = (name: string) => argv.some((a) => a === name || a.startsWith(`${name}=`));
  return [
    ...(given('--threads') ? [] : ['--threads', String(threadsPerChild(slots))]),
    ...(given('--ep') || ctx.model.executionProvider !== 'cpu' ? [] : ['--ep', 'cpu']),
  ];
}

/** The coordinator of a BullMQ farm: Redis checked first (nothing is queued or written when it cannot be reached). */
async function runOnFarm(url: string, ranges: number, opts: EnhanceOptions, ctx: EnhanceContext): Promise<void> {
  const redis = await connectFarm(url);
  const onError = watchFarm(redis, url, ctx.emit, 'farm-queue');
  let release: (() => Promise<void>) | undefined;
  try {
    release = await claimFarmJob(redis, planJob(opts, ctx).output);
    const job = openFarmJob(opts, ctx, ranges);
    // The checkpoint's argv ends with `-o <output> -- <input>`: each worker maps those paths for its host.
    const options = withoutFarmOptions((opts.argv ?? []).slice(0, -4));
    const o = { redis, job, input: ctx.info.path, output: job.plan.output, options, emit: ctx.emit, onError };
    await runFarmJob(job, opts, ctx, (signal) => runFarmRanges({ ...o, signal }));
  } finally {
    // A Redis that is away: the owner key lapses by itself (its TTL).
    if (release) await unlessRedisAway(redis, release());
    await closeFarm(redis);
  }
}

/**
 * A farm job from the coordinator's side: `start`, the ranges run (`runRanges`: local children or a BullMQ flow),
 * the join of a local run, `done`. A failure or cancel leaves the checkpoint for --resume.
 */
export async function runFarmJob(
  job: FarmJob,
  opts: EnhanceOptions,
  ctx: EnhanceContext,
  runRanges: (signal?: AbortSignal) => Promise<FarmProgress>,
): Promise<DoneEvent> {
  const { plan } = job;
  emitStart(plan, framesDone(job.manifest), ctx);
  let progress: FarmProgress;
  try {
    progress = await runRanges(opts.signal);
  } catch (err) {
    unlockWorkDir(plan.dir);
    throw err;
  }
  await finishFarmJob(job, opts, ctx);
  const done: DoneEvent = {
    type: 'done',
    ts: Date.now(),
    output: plan.output,
    frames: framesDone(job.manifest),
    seconds: progress.seconds,
    report: {
      model: ctx.model.id,
      executionProvider: ctx.model.executionProvider,
      precision: ctx.model.precision,
      tile: ctx.tile,
      target: plan.target,
      avgFps: progress.encodedHere / Math.max(1e-3, progress.seconds),
      stageMs: progress.stageMs ?? { decode: 0, infer: 0, encode: 0 },
      peakRssBytes: process.memoryUsage.rss(),
      outputBytes: (await stat(plan.output)).size,
    },
  };
  const { ts: _ts, ...payload } = done;
  ctx.emit(payload);
  return done;
}
