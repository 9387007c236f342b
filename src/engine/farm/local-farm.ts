import { cpus } from 'node:os';
import { ExitCode } from '../../protocol/engine-events';
import { GPU_ENV } from '../device/gpu-choice';
import { CancelledError, EngineError } from '../errors';
import type { Emit } from '../events';
import { framesByRange, rangeFrames, rangesToRun } from './collect-ranges';
import type { FarmJob } from './farm-job';
import { FarmProgress } from './farm-progress';
import { type RangeChildResult, RangeEngine } from './range-child';
import { type FrameRange, rangeName } from './ranges';

/** Tries of one range before the job stops (a child that crashes each time would otherwise loop forever). */
export const MAX_RANGE_TRIES = 3;

export interface WorkerSlot {
  name: string;
  /** What its engine child gets on top of this process's environment (HUAJU4K_GPU for --devices). */
  env: NodeJS.ProcessEnv;
}

export interface LocalFarmOptions {
  job: FarmJob;
  slots: WorkerSlot[];
  /** `enhance` argv of the job without the options that split it (farm-args.ts withoutFarmOptions). */
  enhanceArgv: string[];
  emit: Emit;
  signal?: AbortSignal;
}

/** `--workers n` → n slots; `--devices 0,1` → one slot per device, its child opening that GPU (gpu-choice.ts). */
export function workerSlots(workers: number | undefined, devices: string[] | undefined): WorkerSlot[] {
  if (devices) return devices.map((d) => ({ name: `device ${d}`, env: { [GPU_ENV]: d } }));
  return Array.from({ length: workers ?? 1 }, (_, i) => ({ name: `worker ${i}`, env: {} }));
}

/** Model threads per child when the job did not set --threads: the cores shared out, at least one each. */
export function threadsPerChild(slots: number): number {
  return Math.max(1, Math.floor(cpus().length / slots));
}

/**
 * A range child's failure that another try cannot fix: bad input, other settings, or its environment (the model
 * missing or unsupported, no execution provider — the coordinator, which opens no model, did not see it): the job
 * stops with the engine's own error.
 */
function isFinal(r: RangeChildResult): boolean {
  return r.error !== undefined && (r.error.code === ExitCode.badInput || r.error.code === ExitCode.environment);
}

/**
 * Runs the job's unfinished ranges on long-lived engine children (range-child.ts), one per slot: a slot whose range
 * is done sends its engine the next range (the model stays loaded). An engine that dies (a crash, SIGKILL) puts its
 * range back at the front, and the next free slot (on a new engine) goes on from the range's last complete segment.
 * One progress stream (summed over the ranges), one cancel (SIGTERM to every engine: each keeps its finished
 * segments), one checkpoint (the job's work folder).
 */
export async function runLocalRanges(o: LocalFarmOptions): Promise<FarmProgress> {
  const { job, signal } = o;
  const pending = rangesToRun(job.plan.dir, job.ranges);
  const progress = new FarmProgress(job.plan.total, o.emit, framesByRange(job.plan.dir, job.ranges));
  const tries = new Map<string, number>();
  const engines = new Map<WorkerSlot, RangeEngine>();
  let busy = 0;
  let failure: Error | undefined;
  const waiting: Array<() => void> = [];
  const wake = () => {
    for (const w of waiting.splice(0)) w();
  };
  const stopAll = () => {
    for (const e of engines.values()) e.kill('SIGTERM');
  };
  const onAbort = () => {
    stopAll();
    wake();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const slotLoop = async (slot: WorkerSlot) => {
    while (!failure && !signal?.aborted) {
      const r = pending.shift();
      if (!r) {
        if (busy === 0) return;
        await new Promise<void>((w) => waiting.push(w));
        continue;
      }
      busy++;
      const result = await runOne(r, slot);
      busy--;
      const frames = rangeFrames(job.plan.dir, r);
      if (result.code === 0) {
        progress.update(r, slot.name, frames, 'done');
      } else if (!signal?.aborted && !failure) {
        const n = (tries.get(rangeName(r)) ?? 0) + 1;
        tries.set(rangeName(r), n);
        const why = result.error?.message ?? (result.signal ? `killed by ${result.signal}` : result.stderr);
        if (isFinal(result) || n >= MAX_RANGE_TRIES) failure = rangeFailure(r, result, why, n);
        else pending.unshift(r);
        progress.update(r, slot.name, frames, failure ? 'failed' : 'retry', { message: why });
        if (failure) stopAll();
      }
      wake();
    }
  };
  const engineFor = (slot: WorkerSlot): RangeEngine => {
    let engine = engines.get(slot);
    if (!engine?.alive) {
      engine = new RangeEngine(o.enhanceArgv, slot.env);
      engines.set(slot, engine);
    }
    return engine;
  };
  const runOne = (r: FrameRange, slot: WorkerSlot) => {
    const engine = engineFor(slot);
    progress.update(r, slot.name, rangeFrames(job.plan.dir, r), 'started', { pid: engine.pid });
    return engine.run(rangeName(r), (e) => {
      if (e.type === 'progress') {
        progress.stageMs = e.stageMs;
        progress.update(r, slot.name, e.frame);
      } else if (e.type === 'segment') {
        progress.update(r, slot.name, e.endFrame + 1, 'segment', { pid: engine.pid });
      } else if (e.type === 'warning' && e.code !== 'resumable')
        o.emit({ type: 'warning', code: e.code, message: e.message });
    });
  };
  try {
    await Promise.all(o.slots.map(slotLoop));
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Every engine ends: an idle one when its stdin closes, a stopped one on its SIGTERM.
    await Promise.all([...engines.values()].map((e) => e.close()));
  }
  if (signal?.aborted) throw new CancelledError(String(signal.reason ?? 'signal'));
  if (failure) throw failure;
  return progress;
}

function rangeFailure(r: FrameRange, result: RangeChildResult, why: string, tries: number): EngineError {
  if (result.error && isFinal(result)) {
    return new EngineError(result.error.code, result.error.reason, result.error.message, result.error.hint);
  }
  return new EngineError(
    ExitCode.failure,
    'farm-range-failed',
    `range ${rangeName(r)} failed ${tries} times; last: ${why}`,
    'the finished segments are kept: continue with --resume',
  );
}
