import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startThreadWorker, ThreadPool } from '../thread-worker';

/**
 * The per-output-pixel blend on worker threads (issue 33): the temporal module's memory is shared, so each thread
 * instantiates the module on that same memory and runs the blend (blendBlocks), or the motion blend planned and
 * blended at once (blendWarped), on its own band of block rows. Bands are independent (each reads the frames anywhere and writes only
 * its own rows), so the bytes are those of one thread doing every row. The thread that owns the memory
 * (blend-simd.ts SimdBlend) places the frames and the plan's inputs first, and runs one call at a time.
 */
const WORKER_KIND = 'huaju4k-blend';

/** Threads a pool may have: each needs a scratch of its own at the start of the memory (blend-simd.ts SCRATCH). */
export const MAX_POOL_THREADS = 8;

/** The kernels a thread runs (wasm/temporal.ts): a planned blend, or the motion blend planned and blended at once. */
type Op = 'blend' | 'blendWarped';

/** A call the pool did not finish because close() stopped its threads (a cancel, the run's end): not a failure. */
export class PoolClosedError extends Error {
  constructor() {
    super('the blend threads were stopped');
  }
}

/** Where a blend's band of output goes once blended: `out`'s bytes from the memory at `from`, `rowBytes` a block row. */
export interface BandOut {
  out: Uint8Array;
  from: number;
  rowBytes: number;
}

interface BandRequest {
  id: number;
  op: Op;
  /** The kernel's arguments but the scratch and the band. */
  args: number[];
  y0: number;
  y1: number;
  out?: BandOut;
}

interface BandReply {
  id: number;
  blocks?: number;
  error?: string;
}

interface PoolData {
  kind: string;
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  /** This thread's scratch address. */
  scratch: number;
}

/**
 * Threads for the default pool: the cores beyond the one the engine's main thread keeps busy, at least two (on two
 * cores two bands fill a core the other threads leave idle: 6.8–7.0 s against 6.8–7.5 s for 24 frames with one) and
 * at most four (the blend's bands are memory-bound beyond that). HUAJU4K_BLEND_THREADS sets it (0: no pool, the
 * main thread blends).
 */
export function blendPoolThreads(cores = availableParallelism()): number {
  const set = process.env.HUAJU4K_BLEND_THREADS;
  if (set !== undefined && /^\d+$/.test(set)) return Math.min(MAX_POOL_THREADS, Number(set));
  return Math.max(2, Math.min(4, cores - 1));
}

export class BlendPool {
  private readonly pool: ThreadPool<BandRequest, BandReply>;
  /** close() calls so far: a call that spans one was cut short. */
  private closes = 0;

  constructor(memory: WebAssembly.Memory, module: WebAssembly.Module, threads: number, scratchBytes: number) {
    const start = (i: number) => {
      const data: PoolData = { kind: WORKER_KIND, memory, module, scratch: (i + 1) * scratchBytes };
      return startThreadWorker(__filename, data);
    };
    this.pool = new ThreadPool(Math.min(MAX_POOL_THREADS, threads), start, 'blend thread');
  }

  get threads(): number {
    return this.pool.size;
  }

  /** Why a thread stopped, if one did: the pool is then of no more use (its owner blends itself). */
  get failure(): string | undefined {
    return this.pool.failure;
  }

  /**
   * The kernel `op` over rows 0 ≤ y < h, a band per thread; the blend's bands copied into `out` as each finishes.
   * Resolves to the blocks the bands return, summed; rejects where a thread failed (once every band is settled).
   */
  async run(op: Op, args: number[], h: number, out?: BandOut): Promise<number> {
    if (this.failure !== undefined) throw new Error(this.failure);
    const n = Math.min(this.threads, h);
    const bands = Array.from({ length: n }, (_, i) => [Math.floor((i * h) / n), Math.floor(((i + 1) * h) / n)]);
    const closes = this.closes;
    const replies = await Promise.all(bands.map(([y0, y1], i) => this.pool.ask(i, { op, args, y0, y1, out })));
    if (this.closes !== closes) throw new PoolClosedError();
    let blocks = 0;
    for (const r of replies) {
      if (r?.blocks === undefined) throw new Error(r?.error ?? this.failure ?? 'a blend thread did not answer');
      blocks += r.blocks;
    }
    return blocks;
  }

  /** Stops the threads (a later call starts them again); a call they had not finished rejects (PoolClosedError). */
  close(): void {
    this.closes++;
    this.pool.close();
  }
}

/** Thread side: the module on the shared memory; each request a kernel call on a band, its reply the blocks. */
function workerMain(port: NonNullable<typeof parentPort>, data: PoolData): void {
  const { exports } = new WebAssembly.Instance(data.module, { env: { memory: data.memory } });
  const kernels = { blend: exports.blendBlocks, blendWarped: exports.blendWarped } as Record<
    Op,
    (...args: number[]) => number
  >;
  port.on('message', (q: BandRequest) => {
    try {
      const blocks = kernels[q.op](...q.args, data.scratch, q.y0, q.y1);
      if (q.out) {
        const { out, from, rowBytes } = q.out;
        const [a, b] = [q.y0 * rowBytes, q.y1 * rowBytes];
        out.set(new Uint8Array(data.memory.buffer, from + a, b - a), a);
      }
      port.postMessage({ id: q.id, blocks } satisfies BandReply);
    } catch (err) {
      port.postMessage({ id: q.id, error: err instanceof Error ? err.message : String(err) } satisfies BandReply);
    }
  });
}

if (!isMainThread && parentPort && (workerData as { kind?: string } | null)?.kind === WORKER_KIND) {
  workerMain(parentPort, workerData as PoolData);
}
