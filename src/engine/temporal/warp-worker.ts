import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, type Worker, workerData } from 'node:worker_threads';
import { startThreadWorker } from '../thread-worker';
import type { MotionLink } from './motion';
import type { PastFrame, WarpedPast } from './motion-blend';
import type { TemporalParams } from './strength';
import { warpedPastsHere } from './warp-simd';

/**
 * The motion blend's low-res plan (motion-blend.ts's warpedPasts(): each past frame's weights and whole-output-pixel
 * offsets along the chain of flows) computed in a worker thread: the temporal stage asks for frame N's while the
 * main thread hands frame N+1 to the model (the reuse wrapper's bookkeeping, the model call) and waits for the
 * result only when it blends N (issue 33: the per-input-pixel plan pipelined, not in series with everything else).
 * The worker runs the same pure function on copies of the same planes, so the numbers are the same; when it cannot
 * (it failed, or was closed), the plan is computed in-thread as before.
 */
const WORKER_KIND = 'huaju4k-warp';

interface WarpRequest {
  id: number;
  cur: Uint8Array;
  pastLumas: Uint8Array[];
  links: MotionLink[];
  size: { width: number; height: number; scale: number };
  t: TemporalParams;
}

interface WarpReply {
  id: number;
  pasts?: { weight: Float32Array; ox: Int32Array; oy: Int32Array }[];
  error?: string;
}

const startWorker = (): Worker => startThreadWorker(__filename, { kind: WORKER_KIND });

/**
 * Warp workers: each frame's plan depends only on its own inputs, so consecutive frames are planned side by side
 * where there are cores for them (the main thread, the blend pool and the encoder need theirs), one where not.
 */
export function warpWorkerCount(cores = availableParallelism()): number {
  return Math.max(1, Math.min(3, cores - 3));
}

export class WarpWorker {
  private readonly workers: (Worker | undefined)[];
  /** Answers each worker owes: it is held (keeps the process alive) only while it owes one. */
  private readonly owed: number[];
  private turn = 0;
  private failure: string | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: WarpReply | undefined) => void>();
  private fromWorker = 0;

  constructor(count = warpWorkerCount()) {
    this.workers = new Array<Worker | undefined>(Math.max(1, count)).fill(undefined);
    this.owed = new Array<number>(this.workers.length).fill(0);
  }

  /** Workers that plan frames side by side. */
  get count(): number {
    return this.workers.length;
  }

  /** Why the worker stopped, if it did (plans are then computed in-thread). */
  get failed(): string | undefined {
    return this.failure;
  }

  /** Plans the worker delivered (the rest were computed in-thread). */
  get delivered(): number {
    return this.fromWorker;
  }

  /** warpedPasts() of these arguments, from the worker when it answers, else computed here. */
  async warpedPasts(
    cur: Uint8Array,
    pasts: readonly PastFrame[],
    links: readonly MotionLink[],
    size: { width: number; height: number; scale: number },
    t: TemporalParams,
  ): Promise<WarpedPast[]> {
    const n = Math.min(pasts.length, links.length);
    const reply = this.failure ? undefined : await this.request(cur, pasts, links, size, t, n);
    if (!reply?.pasts || reply.pasts.length !== n) return warpedPastsHere(cur, pasts, links, size, t);
    this.fromWorker++;
    return reply.pasts.map((p, k) => ({ ...p, output: pasts[k].output }));
  }

  /** Stops the worker; whatever was asked of it is computed in-thread (a later request starts a new one). */
  close(): void {
    for (const resolve of this.waiting.values()) resolve(undefined);
    this.waiting.clear();
    this.workers.forEach((w, i) => {
      this.workers[i] = undefined;
      this.owed[i] = 0;
      if (w) void w.terminate();
    });
  }

  private request(
    cur: Uint8Array,
    pasts: readonly PastFrame[],
    links: readonly MotionLink[],
    size: WarpRequest['size'],
    t: TemporalParams,
    n: number,
  ): Promise<WarpReply | undefined> {
    const req: WarpRequest = {
      id: this.nextId++,
      cur,
      pastLumas: pasts.slice(0, n).map((p) => p.luma),
      links: links.slice(0, n).map((l) => ({ back: l.back, consistent: l.consistent, region: l.region })),
      size,
      t,
    };
    const result = new Promise<WarpReply | undefined>((resolve) => this.waiting.set(req.id, resolve));
    // The workers in turn: consecutive frames side by side.
    const i = this.turn++ % this.workers.length;
    const w = this.started(i);
    // Held while it owes an answer (the process waits for it), let go when idle (it never keeps a process alive).
    this.owed[i]++;
    w.ref();
    w.postMessage(req);
    return result;
  }

  private started(i: number): Worker {
    const have = this.workers[i];
    if (have) return have;
    const w = startWorker();
    w.on('message', (r: WarpReply) => {
      const resolve = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (--this.owed[i] === 0) w.unref();
      resolve?.(r);
    });
    const stop = (why: string) => {
      if (this.workers[i] !== w) return;
      this.failure ??= why;
      this.close();
    };
    w.on('error', (err) => stop(err.message));
    w.on('exit', (code) => stop(`warp worker exited (${code})`));
    // Idle, it never keeps the process alive (the run's end or a failure closes it). After the listeners: a
    // 'message' listener added later refs the worker's port again (a test's process then never exits).
    w.unref();
    this.workers[i] = w;
    return w;
  }
}

/** Worker side: answers each request with its plan, the arrays transferred. */
function workerMain(port: NonNullable<typeof parentPort>): void {
  port.on('message', (q: WarpRequest) => {
    try {
      const pasts = q.pastLumas.map((luma) => ({ luma, output: new Uint8Array(0) }));
      const warped = warpedPastsHere(q.cur, pasts, q.links, q.size, q.t).map(({ weight, ox, oy }) => ({
        weight,
        ox,
        oy,
      }));
      const buffers = warped.flatMap((p) => [p.weight.buffer, p.ox.buffer, p.oy.buffer] as ArrayBuffer[]);
      port.postMessage({ id: q.id, pasts: warped } satisfies WarpReply, buffers);
    } catch (err) {
      port.postMessage({ id: q.id, error: err instanceof Error ? err.message : String(err) } satisfies WarpReply);
    }
  });
}

if (!isMainThread && parentPort && (workerData as { kind?: string } | null)?.kind === WORKER_KIND) {
  workerMain(parentPort);
}
