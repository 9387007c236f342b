import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, type Worker, workerData } from 'node:worker_threads';
import { startThreadWorker } from '../thread-worker';

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
  private readonly workers: (Worker | undefined)[];
  /** Answers each thread owes. */
  private readonly owed: number[];
  private readonly waiting = new Map<number, (r: BandReply | undefined) => void>();
  private nextId = 1;
  /** close() calls so far: a call that spans one was cut short. */
  private closes = 0;
  /** Why a thread stopped, if one did: the pool is then of no more use (its owner blends itself). */
  failure: string | undefined;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly module: WebAssembly.Module,
    threads: number,
    private readonly scratchBytes: number,
  ) {
    const n = Math.max(1, Math.min(MAX_POOL_THREADS, threads));
    this.workers = new Array<Worker | undefined>(n).fill(undefined);
    this.owed = new Array<number>(n).fill(0);
  }

  get threads(): number {
    return this.workers.length;
  }

  /**
   * The kernel `op` over rows 0 ≤ y < h, a band per thread; the blend's bands copied into `out` as each finishes.
   * Resolves to the blocks the bands return, summed; rejects where a thread failed (once every band is settled).
   */
  async run(op: Op, args: number[], h: number, out?: BandOut): Promise<number> {
    if (this.failure !== undefined) throw new Error(this.failure);
    const n = Math.min(this.workers.length, h);
    const bands = Array.from({ length: n }, (_, i) => [Math.floor((i * h) / n), Math.floor(((i + 1) * h) / n)]);
    const closes = this.closes;
    const replies = await Promise.all(bands.map(([y0, y1], i) => this.request(i, { op, args, y0, y1, out })));
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
    for (const resolve of this.waiting.values()) resolve(undefined);
    this.waiting.clear();
    this.workers.forEach((w, i) => {
      this.workers[i] = undefined;
      this.owed[i] = 0;
      if (w) void w.terminate();
    });
  }

  private request(i: number, q: Omit<BandRequest, 'id'>): Promise<BandReply | undefined> {
    const req: BandRequest = { id: this.nextId++, ...q };
    const reply = new Promise<BandReply | undefined>((resolve) => this.waiting.set(req.id, resolve));
    const w = this.started(i);
    // Held while it owes an answer, let go when idle (it never keeps the process alive).
    this.owed[i]++;
    w.ref();
    w.postMessage(req);
    return reply;
  }

  private started(i: number): Worker {
    const have = this.workers[i];
    if (have) return have;
    const data: PoolData = {
      kind: WORKER_KIND,
      memory: this.memory,
      module: this.module,
      scratch: (i + 1) * this.scratchBytes,
    };
    const w = startThreadWorker(__filename, data);
    w.on('message', (r: BandReply) => {
      if (--this.owed[i] === 0) w.unref();
      const resolve = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      resolve?.(r);
    });
    const stop = (why: string) => {
      if (this.workers[i] !== w) return;
      this.failure ??= why;
      // Every thread stopped, none restarted: the owner blends in its own thread from here on.
      this.close();
    };
    w.on('error', (err) => stop(`blend thread failed: ${err.message}`));
    w.on('exit', (code) => stop(`blend thread exited (${code})`));
    w.unref();
    this.workers[i] = w;
    return w;
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
