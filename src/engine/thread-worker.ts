import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running `entry`, the module that asked (its `__filename`): the bundle itself
 * (dist/engine.js, one file for every worker kind, told apart by `workerData.kind`), or that module's .ts file
 * under tsx in tests.
 */
export function startThreadWorker<T extends { kind: string }>(entry: string, workerData: T): Worker {
  if (entry.endsWith('.ts'))
    return new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true, workerData });
  return new Worker(entry, { workerData });
}

/**
 * Zeroed arrays on a SharedArrayBuffer: posted to a worker thread they are shared, not copied (the temporal stage
 * sends every frame's flows, lumas and consistency masks to the warp worker: ~15 MB a frame at 960×540). Only for
 * planes nobody writes once they are made.
 */
export const sharedBytes = (n: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(n));
export const sharedFloats = (n: number): Float32Array => new Float32Array(new SharedArrayBuffer(4 * n));

/**
 * Worker threads of one kind, answering requests matched by id: thread i is started when first asked, held (keeps
 * the process alive) only while it owes an answer, let go when idle. A thread that fails or exits stops them all,
 * `failure` saying why (its owner then computes in-thread); close() stops them too. Either way every request not
 * answered yet is answered with undefined, and a later ask() starts the threads again (after a failure the owner
 * stops asking).
 */
export class ThreadPool<Req extends { id: number }, Rep extends { id: number }> {
  private readonly workers: (Worker | undefined)[];
  /** Answers each thread owes. */
  private readonly owed: number[];
  private readonly waiting = new Map<number, (r: Rep | undefined) => void>();
  private nextId = 1;
  /** Why a thread stopped, if one did. */
  failure: string | undefined;

  constructor(
    size: number,
    /** Starts thread i. */
    private readonly start: (i: number) => Worker,
    /** What a thread is called in `failure`. */
    private readonly what: string,
  ) {
    this.workers = new Array<Worker | undefined>(Math.max(1, size)).fill(undefined);
    this.owed = new Array<number>(this.workers.length).fill(0);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Posts `req` (given the next id) to thread i; its answer, or undefined where the threads stopped first. */
  ask(i: number, req: Omit<Req, 'id'>): Promise<Rep | undefined> {
    const id = this.nextId++;
    const reply = new Promise<Rep | undefined>((resolve) => this.waiting.set(id, resolve));
    const w = this.started(i);
    this.owed[i]++;
    w.ref();
    w.postMessage({ ...req, id });
    return reply;
  }

  /** Stops every thread; whatever was asked of them is answered with undefined. */
  close(): void {
    for (const resolve of this.waiting.values()) resolve(undefined);
    this.waiting.clear();
    this.workers.forEach((w, i) => {
      this.workers[i] = undefined;
      this.owed[i] = 0;
      if (w) void w.terminate();
    });
  }

  private started(i: number): Worker {
    const have = this.workers[i];
    if (have) return have;
    const w = this.start(i);
    w.on('message', (r: Rep) => {
      if (--this.owed[i] === 0) w.unref();
      const resolve = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      resolve?.(r);
    });
    const stop = (why: string) => {
      if (this.workers[i] !== w) return;
      this.failure ??= why;
      this.close();
    };
    w.on('error', (err) => stop(`${this.what} failed: ${err.message}`));
    w.on('exit', (code) => stop(`${this.what} exited (${code})`));
    // Idle, it never keeps the process alive. After the listeners: a 'message' listener added later refs its port
    // again (a test's process then never exits).
    w.unref();
    this.workers[i] = w;
    return w;
  }
}
