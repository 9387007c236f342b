import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { providerEntry } from '../device/gpu-choice';
import { listModels, type ModelEntry, modelsDir } from './catalog';
import { Fp16ConversionError, toFp16Model } from './fp16';
import { Int8UnavailableError, verifiedInt8Variant } from './int8-variant';
import { ModelError } from './model-error';
import { OnnxFormatError, readOnnxMetadata } from './onnx-metadata';
import { ort } from './ort';
import { withMaxPrelu } from './prelu-max';
import { Rgb24IoError, withRgb24Io } from './rgb24-io';

export { DEFAULT_MODEL_ID, listModels, type ModelEntry, modelsDir } from './catalog';
export { Int8UnavailableError } from './int8-variant';
export { ModelError, type ModelErrorReason } from './model-error';

export interface LoadedModel {
  id: string;
  path: string;
  scale: number;
  sha256: string;
  inputName: string;
  outputName: string;
  /** Takes rgb24 as uint8 [1,H,W,3] and returns uint8 [1,sH,sW,3]: the file's float planar interface wrapped (model/rgb24-io.ts). */
  session: Ort.InferenceSession;
  /** The first requested execution provider (ORT falls back along the list; 'cpu' by default). */
  executionProvider: string;
  /** Arithmetic the session runs in: the file as it is, its fp16 variant (model/fp16.ts) or its int8 one (int8.ts). */
  precision: Precision;
  /** int8 only: the verified variant's sha256 (models.json), which a checkpoint records with the precision. */
  int8Sha256?: string;
  /**
   * sha256 of the graph the session runs before its rgb24 wrapping: the file's own, or what was made of it in memory
   * (the fp16 or int8 variant, the CPU's max-form PRelus). Memory calibrations belong to this graph, not the file.
   */
  graphSha256: string;
}

export type Precision = 'fp32' | 'fp16' | 'int8';

export interface LoadModelOptions {
  executionProviders?: string[];
  intraOpNumThreads?: number;
  /**
   * 'fp16' runs the model's fp16 variant (weights and activations in float16, float32 in and out); 'int8' its
   * verified int8 variant (catalogued models only; Int8UnavailableError otherwise).
   */
  precision?: Precision;
  /**
   * Every node must run on the requested provider: session creation fails instead of quietly moving nodes to the
   * CPU (an fp16 graph on a GPU without fp16 kernels would otherwise crawl through casts on the CPU).
   */
  noCpuFallback?: boolean;
  /**
   * false turns ORT's CPU memory arena off: every tensor is allocated and freed on its own, so a run that fails for
   * want of memory gives everything back (the arena keeps what it grew). Default: on.
   */
  cpuMemArena?: boolean;
  /** The GPU to open on (the provider's deviceId, device/gpu-choice.ts); undefined = the provider's default. */
  gpu?: number;
}

/** The fp16 variant cannot be made (an operator without fp16) or cannot run on the requested provider. */
export class Fp16UnavailableError extends Error {}

/** The error for a variant (fp16, int8) that ORT refuses: the caller then runs fp32 or passes over the provider. */
function variantError(precision: Precision | undefined, detail: string): Error | undefined {
  if (precision === 'fp16') return new Fp16UnavailableError(detail);
  if (precision === 'int8') return new Int8UnavailableError(detail);
  return undefined;
}

const PROBE_SIZE = 8;
const REGENERATE_HINT = 'restore it with `git checkout models/` or regenerate it with `npm run models`';

interface ResolvedRef {
  path: string;
  entry?: ModelEntry;
}

const looksLikePath = (ref: string): boolean => /[\\/]/.test(ref) || extname(ref).toLowerCase() === '.onnx';

/** `ref` is an id from models.json, a path to a .onnx file, or the id of an optional model in models/ (--all). */
function resolveRef(ref: string): ResolvedRef {
  if (!looksLikePath(ref)) {
    const models = listModels();
    const entry = models.find((m) => m.id === ref);
    if (entry) return { path: join(modelsDir(), entry.file), entry };
    const optional = join(modelsDir(), `${ref}.onnx`);
    if (existsSync(optional)) return { path: optional };
    throw new ModelError(
      'model-not-found',
      `unknown model "${ref}": not an id in models.json and no models/${ref}.onnx`,
      `use one of ${models.map((m) => m.id).join(', ')}, or a path to a .onnx file`,
    );
  }
  return { path: resolve(ref) };
}

function readModelFile({ path, entry }: ResolvedRef): Buffer {
  if (!existsSync(path)) {
    throw new ModelError(
      'model-not-found',
      `model file ${path} does not exist`,
      entry ? REGENERATE_HINT : 'check the path, or pass a model id such as realesr-general-x4v3',
    );
  }
  const bytes = readFileSync(path);
  try {
    readOnnxMetadata(bytes);
  } catch (err) {
    if (!(err instanceof OnnxFormatError)) throw err;
    throw new ModelError(
      'model-corrupt',
      `${path} is not a valid ONNX model (${bytes.byteLength} bytes): ${err.message}`,
      entry ? REGENERATE_HINT : 'the file is damaged or not an ONNX model; download or convert it again',
    );
  }
  return bytes;
}

/** The session as wrapped by rgb24-io.ts (uint8 NHWC); `io` is why the file could not be wrapped. */
function checkImageIo(path: string, session: Ort.InferenceSession, io?: Rgb24IoError): void {
  const unsupported = (detail: string): never => {
    throw new ModelError(
      'model-unsupported',
      `${path} is not an image upscaling model: ${detail}`,
      'use a super-resolution model with one float32 input [N,3,H,W] and one output [N,3,sH,sW]',
    );
  };
  if (io instanceof Rgb24IoError) unsupported(io.message);
  if (session.inputNames.length !== 1) unsupported(`it has ${session.inputNames.length} inputs`);
  if (session.outputNames.length < 1) unsupported('it has no output');
  const checks: [string, Ort.InferenceSession.ValueMetadata | undefined][] = [
    ['input', session.inputMetadata[0]],
    ['output', session.outputMetadata[0]],
  ];
  for (const [what, meta] of checks) {
    if (!meta?.isTensor) unsupported(`its ${what} is not a tensor`);
    else {
      if (meta.type !== 'uint8') unsupported(`its ${what} is ${meta.type}, not float32`);
      if (meta.shape.length !== 4) unsupported(`its ${what} has rank ${meta.shape.length}, not 4 (N,C,H,W)`);
      const channels = meta.shape[3];
      if (typeof channels === 'number' && channels !== 3)
        unsupported(`its ${what} has ${channels} channels, not 3 (RGB)`);
    }
  }
}

/** Runs an 8×8 grey image through the model and reads the scale off the output size. */
async function probeScale(path: string, session: Ort.InferenceSession, precision: Precision): Promise<number> {
  const n = PROBE_SIZE;
  const input = new (ort().Tensor)('uint8', new Uint8Array(3 * n * n).fill(128), [1, n, n, 3]);
  let dims: readonly number[];
  try {
    const out = await session.run({ [session.inputNames[0]]: input });
    dims = out[session.outputNames[0]].dims;
  } catch (err) {
    const variant = variantError(precision, `${precision} run failed: ${String(err).split('\n')[0]}`);
    if (variant) throw variant;
    throw new ModelError(
      'model-unsupported',
      `${path} fails on an ${n}×${n} RGB probe image: ${err instanceof Error ? err.message : String(err)}`,
      'use a super-resolution model with one float32 input [N,3,H,W] and one output [N,3,sH,sW]',
    );
  }
  const scale = dims[1] / n;
  if (dims.length !== 4 || dims[3] !== 3 || !Number.isInteger(scale) || scale < 1 || dims[2] !== n * scale) {
    throw new ModelError(
      'model-unsupported',
      `${path} turns an ${n}×${n} RGB image into [${[dims[0], dims[3], dims[1], dims[2]].join(',')}], not a whole-number upscale`,
      'use a super-resolution model whose output is the input enlarged by an integer factor',
    );
  }
  return scale;
}

async function createSession(path: string, bytes: Uint8Array, opts: LoadModelOptions, eps: string[]) {
  try {
    return await ort().InferenceSession.create(bytes, {
      graphOptimizationLevel: 'all',
      ...(opts.cpuMemArena === false ? { enableCpuMemArena: false } : {}),
      executionProviders: eps.map((ep) => providerEntry(ep, opts.gpu)),
      intraOpNumThreads: opts.intraOpNumThreads ?? availableParallelism(),
      // DirectML runs neither memory patterns nor parallel execution (onnxruntime would turn them off with a warning).
      ...(eps.includes('dml') ? { enableMemPattern: false, executionMode: 'sequential' as const } : {}),
      // The caller reports a refused fp16 session as a warning; ORT's own error log would only repeat it.
      ...(opts.noCpuFallback ? { extra: { session: { disable_cpu_ep_fallback: '1' } }, logSeverityLevel: 4 } : {}),
    });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    const variant = variantError(opts.precision, detail.split('\n')[0]);
    if (variant) throw variant;
    if (eps.some((ep) => ep !== 'cpu') && /provider|backend/i.test(detail)) throw err; // an EP problem, not the model's
    throw new ModelError(
      'model-corrupt',
      `onnxruntime cannot load ${path}: ${detail.split('\n')[0]}`,
      'the file is damaged or uses operators this onnxruntime does not know; regenerate or re-download it',
    );
  }
}

function fp16Variant(path: string, bytes: Uint8Array): Uint8Array {
  try {
    return toFp16Model(bytes);
  } catch (err) {
    if (err instanceof Fp16ConversionError)
      throw new Fp16UnavailableError(`${basename(path)} has no fp16 form: ${err.message}`);
    throw err;
  }
}

/**
 * The CPU runs PRelu faster in the exact max form (model/prelu-max.ts); GPU providers get the file's own graph. A
 * model the rewrite cannot read runs as it is.
 */
function fp32Graph(bytes: Uint8Array, eps: string[]): Uint8Array {
  if (eps[0] !== 'cpu') return bytes;
  try {
    return withMaxPrelu(bytes);
  } catch {
    return bytes;
  }
}

function rgb24Variant(bytes: Uint8Array): Uint8Array | Rgb24IoError {
  try {
    return withRgb24Io(bytes);
  } catch (err) {
    if (err instanceof Rgb24IoError) return err;
    throw err;
  }
}

/** A model file found, read, checked against models.json and its ONNX metadata read: everything before a session. */
export interface ModelFile {
  path: string;
  entry?: ModelEntry;
  bytes: Buffer;
  sha256: string;
  metadata: Map<string, string>;
  /** As loadModel names it: the catalogue's id, the file's `huaju4k.id`, or the file name. */
  id: string;
  /** The file's declared `huaju4k.scale`; undefined when only a probe run on a session can tell. */
  declaredScale?: number;
}

/**
 * Finds and checks a model by id (models.json), optional-model id or path, without opening it: the same refusals as
 * loadModel (model-not-found, model-corrupt) for a caller that needs what the model is but runs no frame.
 */
export function inspectModel(ref: string): ModelFile {
  const resolved = resolveRef(ref);
  const { path, entry } = resolved;
  const bytes = readModelFile(resolved);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (entry && entry.sha256 !== sha256) {
    throw new ModelError(
      'model-corrupt',
      `${path} has sha256 ${sha256}, but models.json expects ${entry.sha256} for ${entry.id}`,
      REGENERATE_HINT,
    );
  }
  const metadata = readOnnxMetadata(bytes);
  const declared = Number(metadata.get('huaju4k.scale'));
  return {
    ...{ path, entry, bytes, sha256, metadata },
    id: entry?.id ?? metadata.get('huaju4k.id') ?? basename(path, extname(path)),
    declaredScale: Number.isInteger(declared) && declared >= 1 ? declared : undefined,
  };
}

/**
 * The graph a session runs in `precision` on `eps[0]` (the fp16 or int8 variant, the CPU's max-form PRelus), as
 * loadModel makes it; throws Fp16UnavailableError / Int8UnavailableError as loadModel does.
 */
export function graphFor(file: ModelFile, precision: Precision, eps: string[]): Uint8Array {
  if (precision === 'fp16') return fp16Variant(file.path, file.bytes);
  if (precision === 'int8') return verifiedInt8Variant(file.entry, file.bytes, modelsDir());
  return fp32Graph(file.bytes, eps);
}

/** Opens a model by id (models.json), by optional-model id (models/<id>.onnx) or by path to a .onnx file. */
export async function loadModel(ref: string, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  const file = inspectModel(ref);
  const { path, entry, bytes, sha256 } = file;
  const eps = opts.executionProviders?.length ? opts.executionProviders : ['cpu'];
  const precision = opts.precision ?? 'fp32';
  const graph = graphFor(file, precision, eps);
  const wrapped = rgb24Variant(graph);
  const session = await createSession(path, wrapped instanceof Rgb24IoError ? graph : wrapped, opts, eps);
  try {
    checkImageIo(path, session, wrapped instanceof Rgb24IoError ? wrapped : undefined);
    const scale = file.declaredScale ?? (await probeScale(path, session, precision));
    return {
      id: file.id,
      path,
      scale,
      sha256,
      graphSha256: graph === bytes ? sha256 : createHash('sha256').update(graph).digest('hex'),
      inputName: session.inputNames[0],
      outputName: session.outputNames[0],
      session,
      executionProvider: eps[0],
      precision,
      ...(precision === 'int8' && entry?.int8 && { int8Sha256: entry.int8.sha256 }),
    };
  } catch (err) {
    await session.release();
    throw err;
  }
}

/** Whether `--precision auto` runs this model's int8 variant on the CPU (models.json says so for catalogued ids). */
export function autoPicksInt8(ref: string): boolean {
  if (looksLikePath(ref)) return false;
  return listModels().find((m) => m.id === ref)?.int8?.auto === true;
}

/** The catalogued models that have a verified int8 variant (`--precision int8` runs only these). */
export function int8ModelIds(): string[] {
  return listModels()
    .filter((m) => m.int8)
    .map((m) => m.id);
}

/** Whether `ref` (a catalogued id or a path) has a verified int8 variant. */
export function hasInt8Variant(ref: string): boolean {
  return !looksLikePath(ref) && int8ModelIds().includes(ref);
}
