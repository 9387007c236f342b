import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, type Worker, workerData } from 'node:worker_threads';
import { sharedFloats, startThreadWorker } from '../thread-worker';
import { frameLuma, frameSceneCut } from './frame-luma';
import { linkOf, type MotionEstimator, type Rect, regionFlow } from './motion';
import type { FlowField, FlowOptions } from './optical-flow';

/**
 * The low-res optical flows of each frame pair, computed in worker threads as soon as the frame is decoded: frame
 * N's flows run while frame N−1 is in the model and N−2 is encoding, so the flow (the largest per-input-pixel cost
 * of `--motion flow`) overlaps the other stages instead of adding to them (issue 33). The worker runs the same
 * regionFlow() on the same luma planes, so the flows are the same numbers the estimator would compute; they are
 * handed to its memo (MotionEstimator.remember) just before the frame needs them, and the output is byte-identical.
 * Where the blend stage needs both directions one worker computes the pair and its link too (linkOf(): the
 * consistency mask and the region, MotionEstimator.rememberLink), so none of that runs on the main thread.
 * Anything the worker did not deliver (a failure, a frame it was not offered) is computed in-thread as before.
 */
const WORKER_KIND = 'huaju4k-flow';

/** Which flows of a pair the run uses: the reuse wrapper needs the backward one, the blend stage both. */
export interface FlowNeeds {
  back: boolean;
  fwd: boolean;
  /** Frames the reuse wrapper recomputes whole (its refreshes); with no stage, no flow is needed on them. */
  skip?: (index: number) => boolean;
}

/**
 * One flow: `from` → `to` (regionFlow's arguments); with `link`, the pair's both flows and the link of frame `from`
 * to `to` (motion.ts linkOf(): its consistency mask and region), so the stage finds its link made.
 */
interface FlowRequest {
  id: number;
  from: Uint8Array;
  to: Uint8Array;
  width: number;
  height: number;
  options: FlowOptions;
  link?: boolean;
}

interface FlowReply {
  id: number;
  u?: Float32Array;
  v?: Float32Array;
  /** With `link`: the flow `to` → `from`, and the link. */
  fu?: Float32Array;
  fv?: Float32Array;
  consistent?: Uint8Array;
  region?: Rect;
  error?: string;
}

/** One pair in flight: its luma planes (the memo's keys) and the flows asked for. */
interface Pending {
  cur: Uint8Array;
  prev: Uint8Array;
  width: number;
  height: number;
  back?: Promise<FlowReply | undefined>;
  fwd?: Promise<FlowReply | undefined>;
  /** Both flows and the link, from one worker (the blend stage's case). */
  pair?: Promise<FlowReply | undefined>;
}

/** Frame pairs the flow workers may run ahead of the model (offer() waits beyond that). */
export const FLOW_PREFETCH_AHEAD = 4;

/**
 * Flow workers: consecutive pairs run side by side where there are cores for them (with
 * the model on a GPU the CPU has them), one where there are not (the main thread and the encoder need the rest).
 */
export function flowWorkerCount(cores = availableParallelism()): number {
  return Math.max(1, Math.min(4, cores - 2));
}

const startWorker = (): Worker => startThreadWorker(__filename, { kind: WORKER_KIND });

export class FlowPrefetch {
  private workers: Worker[] = [];
  private turn = 0;
  private failure: string | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: FlowReply | undefined) => void>();
  private readonly pending = new Map<number, Pending>();
  private prev: { index: number; luma: Uint8Array } | undefined;
  private delivered = 0;
  private spaceWaiters: (() => void)[] = [];

  constructor(
    private readonly motion: MotionEstimator,
    private readonly needs: FlowNeeds,
    private readonly poolSize = flowWorkerCount(),
    /** Pairs in flight at most (each holds ~16 bytes of flows per pixel): offer() waits for room. */
    private readonly maxAhead = FLOW_PREFETCH_AHEAD,
  ) {}

  /** Pairs offered and not taken by ready() yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Frame pairs whose flows came from the workers (the rest were computed in-thread). */
  get deliveredPairs(): number {
    return this.delivered;
  }

  /** Why a worker stopped, if one did (the run goes on computing flows in-thread). */
  get failed(): string | undefined {
    return this.failure;
  }

  /**
   * Frame `index` was decoded (frames are offered in order): starts its flows against the frame offered before it,
   * unless nothing will ask for them (no previous frame, a scene cut, a frame the reuse wrapper recomputes whole
   * when there is no stage).
   */
  async offer(index: number, rgb: Uint8Array, width: number, height: number): Promise<void> {
    // Backpressure: the decoder runs at most maxAhead pairs ahead of the model, so the flows' memory stays bounded.
    while (this.pending.size >= this.maxAhead) await new Promise<void>((wake) => this.spaceWaiters.push(wake));
    const luma = frameLuma(rgb, width * height);
    const prev = this.prev;
    this.prev = { index, luma };
    if (this.failure || !prev || prev.index !== index - 1 || prev.luma.length !== luma.length) return;
    if (this.needs.skip?.(index) || frameSceneCut(luma, prev.luma)) return;
    const pair = this.needs.back && this.needs.fwd;
    this.pending.set(index, {
      cur: luma,
      prev: prev.luma,
      width,
      height,
      pair: pair ? this.request(luma, prev.luma, width, height, true) : undefined,
      back: this.needs.back && !pair ? this.request(luma, prev.luma, width, height) : undefined,
      fwd: this.needs.fwd && !pair ? this.request(prev.luma, luma, width, height) : undefined,
    });
  }

  /** Before frame `index` goes to the model: waits for its flows and hands them to the estimator. */
  async ready(index: number): Promise<void> {
    for (const k of this.pending.keys()) if (k < index) this.pending.delete(k);
    const p = this.pending.get(index);
    this.pending.delete(index);
    this.wakeOffers();
    if (!p) return;
    const [back, fwd, pair] = await Promise.all([p.back, p.fwd, p.pair]);
    const field = (u?: Float32Array, v?: Float32Array): FlowField | undefined =>
      u && v ? { width: p.width, height: p.height, u, v } : undefined;
    const b = field(back?.u, back?.v) ?? field(pair?.u, pair?.v);
    const f = field(fwd?.u, fwd?.v) ?? field(pair?.fu, pair?.fv);
    if (b) this.motion.remember(p.cur, p.prev, b);
    if (f) this.motion.remember(p.prev, p.cur, f);
    if (b && f && pair?.consistent)
      this.motion.rememberLink(p.cur, p.prev, { back: b, consistent: pair.consistent, region: pair.region });
    if (b || f) this.delivered++;
  }

  /** Stops the workers and forgets the frames in flight (a later offer() starts new ones). */
  close(): void {
    const ws = this.workers;
    this.workers = [];
    this.prev = undefined;
    this.pending.clear();
    this.settleAll();
    this.wakeOffers();
    for (const w of ws) void w.terminate();
  }

  private wakeOffers(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const wake of waiters) wake();
  }

  private request(from: Uint8Array, to: Uint8Array, width: number, height: number, link = false) {
    const req: FlowRequest = { id: this.nextId++, from, to, width, height, options: this.motion.options, link };
    const result = new Promise<FlowReply | undefined>((resolve) => this.waiting.set(req.id, resolve));
    this.nextWorker().postMessage(req);
    return result;
  }

  private settleAll(): void {
    for (const resolve of this.waiting.values()) resolve(undefined);
    this.waiting.clear();
  }

  /** The pool's workers in turn, started as first needed. */
  private nextWorker(): Worker {
    const i = this.turn++ % this.poolSize;
    if (this.workers[i]) return this.workers[i];
    const w = startWorker();
    w.on('message', (r: FlowReply) => {
      const resolve = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      resolve?.(r);
    });
    const stop = (why: string) => {
      if (!this.workers.includes(w)) return;
      // Whatever was in flight is computed in-thread; no new frame is offered to the pool.
      this.failure ??= why;
      this.close();
    };
    w.on('error', (err) => stop(err.message));
    w.on('exit', (code) => stop(`flow worker exited (${code})`));
    // The run's end (or a failure) closes it; it never keeps the process alive on its own. After the listeners:
    // a 'message' listener added later refs the worker's port again (a test's process then never exits).
    w.unref();
    this.workers[i] = w;
    return w;
  }
}

/**
 * Worker side: answers each request with its flow, on SharedArrayBuffers (the stage sends the flows on to the warp
 * worker with every frame they are a link of: shared, they are never copied again).
 */
function workerMain(port: NonNullable<typeof parentPort>): void {
  const shared = (a: Float32Array) => {
    const s = sharedFloats(a.length);
    s.set(a);
    return s;
  };
  port.on('message', (q: FlowRequest) => {
    try {
      const flow = regionFlow(q.from, q.to, q.width, q.height, q.options);
      const [u, v] = [shared(flow.u), shared(flow.v)];
      if (!q.link) {
        port.postMessage({ id: q.id, u, v } satisfies FlowReply);
        return;
      }
      const back = { width: q.width, height: q.height, u, v };
      const f = regionFlow(q.to, q.from, q.width, q.height, q.options);
      const fwd = { width: q.width, height: q.height, u: shared(f.u), v: shared(f.v) };
      const { consistent, region } = linkOf(q.from, q.to, back, fwd);
      port.postMessage({ id: q.id, u, v, fu: fwd.u, fv: fwd.v, consistent, region } satisfies FlowReply);
    } catch (err) {
      port.postMessage({ id: q.id, error: err instanceof Error ? err.message : String(err) } satisfies FlowReply);
    }
  });
}

if (!isMainThread && parentPort && (workerData as { kind?: string } | null)?.kind === WORKER_KIND) {
  workerMain(parentPort);
}
