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
