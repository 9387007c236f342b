import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, type Worker, workerData } from 'node:worker_threads';
import { startThreadWorker, ThreadPool } from '../thread-worker';
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
  private readonly threads: ThreadPool<WarpRequest, WarpReply>;
  private turn = 0;
  private fromWorker = 0;

  constructor(count = warpWorkerCount()) {
    this.threads = new ThreadPool(count, startWorker, 'warp worker');
  }

  /** Workers that plan frames side by side. */
  get count(): number {
    return this.threads.size;
  }

  /** Why the workers stopped, if they did (plans are then computed in-thread). */
  get failed(): string | undefined {
    return this.threads.failure;
  }

  /** Plans the workers delivered (the rest were computed in-thread). */
  get delivered(): number {
    return this.fromWorker;
  }

  /** warpedPasts() of these arguments, from a worker when it answers, else computed here. */
  async warpedPasts(
    cur: Uint8Array,
    pasts: readonly PastFrame[],
    links: readonly MotionLink[],
    size: { width: number; height: number; scale: number },
    t: TemporalParams,
  ): Promise<WarpedPast[]> {
    const n = Math.min(pasts.length, links.length);
    const req = {
      cur,
      pastLumas: pasts.slice(0, n).map((p) => p.luma),
      links: links.slice(0, n).map((l) => ({ back: l.back, consistent: l.consistent, region: l.region })),
      size,
      t,
    };
    // The workers in turn: consecutive frames side by side.
    const reply = this.threads.failure ? undefined : await this.threads.ask(this.turn++ % this.count, req);
    if (!reply?.pasts || reply.pasts.length !== n) return warpedPastsHere(cur, pasts, links, size, t);
    this.fromWorker++;
    return reply.pasts.map((p, k) => ({ ...p, output: pasts[k].output }));
  }

  /** Stops the workers; whatever was asked of them is computed in-thread (a later request starts them again). */
  close(): void {
    this.threads.close();
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
