import { cpus } from 'node:os';
import { ExitCode } from '../../protocol/engine-events';
import { GPU_ENV } from '../device/gpu-choice';
import { CancelledError, EngineError } from '../errors';
import type { Emit } from '../events';
import { finishedRanges, framesByRange, rangeFrames } from './collect-ranges';
import type { FarmJob } from './farm-job';
import { FarmProgress } from './farm-progress';
import { type RangeChildResult, startRangeChild } from './range-child';
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

/** A range child's failure that another try cannot fix (bad input, other settings): the job stops with it. */
function isFinal(r: RangeChildResult): boolean {
  return r.error !== undefined && r.error.code === ExitCode.badInput;
}

/**
 * Runs the job's unfinished ranges on engine children, one per slot, each slot taking the next range when its child
 * ends: a child that dies (a crash, SIGKILL) puts its range back at the front, and the next free slot goes on from
 * the range's last complete segment. One progress stream (summed over the ranges), one cancel (SIGTERM to every
 * child: each keeps its finished segments), one checkpoint (the job's work folder).
 */
export async function runLocalRanges(o: LocalFarmOptions): Promise<FarmProgress> {
  const { job, emit, signal } = o;
  const done = finishedRanges(job.plan.dir, job.ranges);
  const pending = job.ranges.filter((r) => !done.has(rangeName(r)));
  const progress = new FarmProgress(job.plan.total, emit, framesByRange(job.plan.dir, job.ranges));
  const tries = new Map<string, number>();
  const running = new Set<{ kill: (s: NodeJS.Signals) => void }>();
  let failure: Error | undefined;
  const waiting: Array<() => void> = [];
  const wake = () => {
    for (const w of waiting.splice(0)) w();
  };
  const onAbort = () => {
    for (const c of running) c.kill('SIGTERM');
    wake();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const slotLoop = async (slot: WorkerSlot) => {
    while (!failure && !signal?.aborted) {
      const r = pending.shift();
      if (!r) {
        if (running.size === 0) return;
        await new Promise<void>((w) => waiting.push(w));
        continue;
      }
      const tracked = runOne(r, slot);
      running.add(tracked);
      const result = await tracked.result;
      running.delete(tracked);
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
        if (failure) for (const c of running) c.kill('SIGTERM');
      }
      wake();
    }
  };
  const runOne = (r: FrameRange, slot: WorkerSlot) => {
    const argv = ['enhance', '--json', '--range', rangeName(r), ...o.enhanceArgv];
    const started = startRangeChild(argv, slot.env, (e) => {
      if (e.type === 'progress') {
        progress.stageMs = e.stageMs;
        progress.update(r, slot.name, e.frame);
      } else if (e.type === 'segment') {
        progress.update(r, slot.name, e.endFrame + 1, 'segment', { pid: started.child.pid });
      } else if (e.type === 'warning' && e.code !== 'resumable')
        emit({ type: 'warning', code: e.code, message: e.message });
    });
    progress.update(r, slot.name, rangeFrames(job.plan.dir, r), 'started', { pid: started.child.pid });
    return { kill: (s: NodeJS.Signals) => started.child.kill(s), result: started.result };
  };
  try {
    await Promise.all(o.slots.map(slotLoop));
  } finally {
    signal?.removeEventListener('abort', onAbort);
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
