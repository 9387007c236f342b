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
