import { createHash } from 'node:crypto';
import { isMainThread, parentPort, type Worker, workerData } from 'node:worker_threads';
import { ExitCode } from '../../protocol/engine-events';
import type { RetileableUpscaler } from '../device/oom';
import { openModel } from '../device/open-model';
import type { PrecisionChoice } from '../device/precision';
import type { EpChoice } from '../device/providers';
import { RetilingTileUpscaler } from '../device/retiling-upscaler';
import type { EngineWarning } from '../device/select-provider';
import { EngineError } from '../errors';
import { ModelError } from '../model/loader';
import type { EngineModel } from '../pipeline/pipeline-types';
import { startThreadWorker } from '../thread-worker';
import { NULL_MODEL_ID, NULL_MODEL_SCALE, nullTileModel } from './null-model';

/**
 * onnxruntime-node's `session.run` is a synchronous call wrapped in a promise: it blocks the JS thread for the
 * whole inference. The session therefore lives in a worker thread, and the main thread stays free to move frames
 * through the decoder and encoder pipes while the model runs: the three stages really overlap.
 */
const WORKER_KIND = 'huaju4k-infer';

export interface InferWorkerOptions {
  modelRef: string;
  /** A tile side, 0 (whole frame) or 'auto' (largest that fits the memory budget; needs `frame`). */
  tile: number | 'auto';
  pad: number;
  /** Default 'cpu' (no provider probing); the CLI passes --ep (default auto). */
  ep?: EpChoice;
  /** Default 'fp32' like `ep`'s default 'cpu'; the CLI passes --precision (default auto). */
  precision?: PrecisionChoice;
  vramBudgetBytes?: number;
  /** RAM the frames will take (CPU tiles are sized from what is left). */
  reservedBytes?: number;
  frame?: { width: number; height: number };
  intraOpNumThreads?: number;
  /** See LoadModelOptions.cpuMemArena. */
  cpuMemArena?: boolean;
  /** The GPU to open on (device/gpu-choice.ts); default HUAJU4K_GPU, else the provider's default. */
  gpu?: number;
}

type ModelMeta = EngineModel & { inputName: string; outputName: string };

type ToWorker =
  | { type: 'upscale'; id: number; frame: Uint8Array; width: number; height: number }
  | { type: 'release'; frame: Uint8Array }
  | { type: 'tile'; tile: number }
  | { type: 'close' };
type FromWorker =
  | { type: 'ready'; model: ModelMeta; tile: number; warnings: EngineWarning[]; summary?: EngineWarning }
  | { type: 'result'; id: number; output: Uint8Array }
  | { type: 'error'; id?: number; message: string; reason?: string; hint?: string; code?: ExitCode };

const startWorker = (data: InferWorkerOptions & { kind: string }): Worker => startThreadWorker(__filename, data);

function toEngineError(m: Extract<FromWorker, { type: 'error' }>): Error {
  if (m.reason) return new EngineError(m.code ?? ExitCode.failure, m.reason, m.message, m.hint);
  return new Error(m.message);
}

/** How long `close` waits for the frame in flight before it terminates the worker anyway. */
const CLOSE_TIMEOUT_MS = 30_000;

/** Main-thread handle of the inference worker; a FrameUpscaler (with a changeable tile) for the pipeline. */
export class WorkerUpscaler implements RetileableUpscaler {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    readonly model: ModelMeta,
    /** Tile the worker runs with now (chosen from the memory budget for 'auto'). */
    public tile: number,
    /** Provider fallbacks and budget notes from opening the model, for the caller to emit. */
    readonly warnings: EngineWarning[],
    /** `--ep auto` passed a provider over: one line for a terminal (gpu/select-provider.ts fallbackSummary). */
    readonly summary?: EngineWarning,
  ) {
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'result') {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve(Buffer.from(m.output.buffer, m.output.byteOffset, m.output.byteLength));
      } else if (m.type === 'error') {
        const err = toEngineError(m);
        const p = m.id !== undefined ? this.pending.get(m.id) : undefined;
        if (p && m.id !== undefined) {
          this.pending.delete(m.id);
          p.reject(err);
        } else this.failAll(err);
      }
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => {
      this.exited = true;
      this.failAll(new Error(`inference worker exited (${code})`));
    });
  }

  /** What follows `start`: the warnings, and for a person at a terminal (`terminal`) auto's one-line summary. */
  warningsAfterStart(terminal: boolean): EngineWarning[] {
    return terminal && this.summary ? [...this.warnings, this.summary] : [...this.warnings];
  }

  get scale(): number {
    return this.model.scale;
  }

  private failAll(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Starts the worker and loads the model there; rejects with the loader's error (as an EngineError). */
  static start(opts: InferWorkerOptions): Promise<WorkerUpscaler> {
    disableOrtTelemetry();
    const worker = startWorker({ ...opts, kind: WORKER_KIND });
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.type === 'ready') {
          worker.off('message', onMessage);
          worker.off('error', reject);
          resolve(new WorkerUpscaler(worker, m.model, m.tile, m.warnings, m.summary));
        } else if (m.type === 'error') {
          void worker.terminate();
          reject(toEngineError(m));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  upscale(frame: Uint8Array, width: number, height: number): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: ToWorker = { type: 'upscale', id, frame, width, height };
      this.worker.postMessage(msg);
    });
  }

  /** Sends an output frame back to the worker's pool (transferred, no copy); `frame` must not be touched after. */
  release(frame: Buffer): void {
    if (this.failure || frame.byteOffset !== 0 || frame.byteLength !== frame.buffer.byteLength) return;
    const view = new Uint8Array(frame.buffer, 0, frame.byteLength);
    this.worker.postMessage({ type: 'release', frame: view } satisfies ToWorker, [view.buffer as ArrayBuffer]);
  }

  /** Later frames run with `tile` (messages are handled in order, so a frame already sent keeps the old one). */
  setTile(tile: number): void {
    this.tile = tile;
    this.worker.postMessage({ type: 'tile', tile } satisfies ToWorker);
  }

  /**
   * Lets the frame in flight finish, then the worker ends on its own. Terminating it while onnxruntime runs (or
   * opens) a session aborts the whole process: ORT's thread calls back into the torn-down thread ("terminate called
   * after throwing an instance of 'Napi::Error'", SIGABRT). Terminated only if it has not ended after
   * CLOSE_TIMEOUT_MS.
   */
  async close(): Promise<void> {
    this.failure ??= new Error('inference worker closed');
    if (this.exited) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage({ type: 'close' } satisfies ToWorker);
    const timer = setTimeout(() => void this.worker.terminate(), CLOSE_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}

function describeError(err: unknown, id?: number): FromWorker {
  if (err instanceof ModelError) {
    return { type: 'error', id, message: err.message, reason: err.reason, hint: err.hint, code: ExitCode.environment };
  }
  if (err instanceof EngineError) {
    return { type: 'error', id, message: err.message, reason: err.reason, hint: err.hint, code: err.code };
  }
  return { type: 'error', id, message: err instanceof Error ? err.message : String(err) };
}

/**
 * onnxruntime-node 1.30 embeds Microsoft's 1DS telemetry, which writes `.ses` and `mat-debug-<pid>.log` into the
 * temp folder on the first session. Off unless the user explicitly set the variable: the engine writes no files
 * but the output, and sends nothing anywhere.
 */
export function disableOrtTelemetry(env: NodeJS.ProcessEnv = process.env): void {
  env.ORT_DISABLE_TELEMETRY ??= '1';
}

/** What `--model null` reports (and a checkpoint records) of itself. */
export function nullModelMeta(): ModelMeta {
  return {
    id: NULL_MODEL_ID,
    path: NULL_MODEL_ID,
    scale: NULL_MODEL_SCALE,
    sha256: createHash('sha256').update(`huaju4k nearest x${NULL_MODEL_SCALE}`).digest('hex'),
    executionProvider: 'none',
    precision: 'fp32',
    inputName: 'rgb24',
    outputName: 'rgb24',
  };
}

/** `--model null`: the built-in nearest ×4 in place of the session (null-model.ts); no onnxruntime at all. */
function openNullModel(opts: InferWorkerOptions): { upscaler: RetilingTileUpscaler; ready: FromWorker } {
  const model = nullModelMeta();
  const tile = opts.tile === 'auto' ? 0 : opts.tile;
  const upscaler = new RetilingTileUpscaler(nullTileModel(), tile, opts.pad);
  return { upscaler, ready: { type: 'ready', model, tile, warnings: [] } };
}

async function openWorkerModel(
  opts: InferWorkerOptions,
): Promise<{ upscaler: RetilingTileUpscaler; ready: FromWorker }> {
  if (opts.modelRef === NULL_MODEL_ID) return openNullModel(opts);
  const opened = await openModel({
    modelRef: opts.modelRef,
    ep: opts.ep ?? 'cpu',
    precision: opts.precision ?? 'fp32',
    vramBudgetBytes: opts.vramBudgetBytes ?? 6 * 2 ** 30,
    reservedBytes: opts.reservedBytes,
    tile: opts.tile,
    frame: opts.frame ?? { width: 0, height: 0 },
    pad: opts.pad,
    intraOpNumThreads: opts.intraOpNumThreads,
    cpuMemArena: opts.cpuMemArena,
    gpu: opts.gpu,
  });
  const { model } = opened;
  const upscaler = new RetilingTileUpscaler(model, opened.tile, opts.pad);
  const meta: ModelMeta = {
    id: model.id,
    path: model.path,
    scale: model.scale,
    sha256: model.sha256,
    executionProvider: model.executionProvider,
    precision: model.precision,
    ...(model.int8Sha256 && { int8Sha256: model.int8Sha256 }),
    inputName: model.inputName,
    outputName: model.outputName,
  };
  const { tile, warnings, summary } = opened;
  return { upscaler, ready: { type: 'ready', model: meta, tile, warnings, summary } };
}

async function workerMain(port: NonNullable<typeof parentPort>, opts: InferWorkerOptions): Promise<void> {
  disableOrtTelemetry();
  let upscaler: RetilingTileUpscaler;
  try {
    const opened = await openWorkerModel(opts);
    upscaler = opened.upscaler;
    port.postMessage(opened.ready);
  } catch (err) {
    port.postMessage(describeError(err));
    return;
  }
  // One frame at a time: the upscaler reuses its input tensors between tiles.
  let queue = Promise.resolve();
  let closing = false;
  const handle = async (m: Extract<ToWorker, { type: 'upscale' }>) => {
    if (closing) return;
    try {
      const out = await upscaler.upscale(m.frame, m.width, m.height);
      const view = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      port.postMessage({ type: 'result', id: m.id, output: view } satisfies FromWorker, [out.buffer as ArrayBuffer]);
    } catch (err) {
      port.postMessage(describeError(err, m.id));
    }
  };
  port.on('message', (m: ToWorker) => {
    // Closing: frames still waiting are dropped, the one running finishes, then the port closes and the thread ends.
    if (m.type === 'close') {
      closing = true;
      queue = queue.then(() => port.close());
    } else if (m.type === 'release')
      upscaler.release(Buffer.from(m.frame.buffer, m.frame.byteOffset, m.frame.byteLength));
    else if (m.type === 'tile') queue = queue.then(() => upscaler.setTile(m.tile));
    else queue = queue.then(() => handle(m));
  });
}

if (!isMainThread && parentPort && (workerData as { kind?: string } | null)?.kind === WORKER_KIND) {
  void workerMain(parentPort, workerData as InferWorkerOptions);
}
