import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { listModels, type ModelEntry, modelsDir } from './catalog';
import { ModelError } from './model-error';
import { OnnxFormatError, readOnnxMetadata } from './onnx-metadata';

export { DEFAULT_MODEL_ID, listModels, type ModelEntry, modelsDir } from './catalog';
export { ModelError, type ModelErrorReason } from './model-error';

export interface LoadedModel {
  id: string;
  path: string;
  scale: number;
  sha256: string;
  inputName: string;
  outputName: string;
  session: ort.InferenceSession;
  /** The first requested execution provider (ORT falls back along the list; 'cpu' by default). */
  executionProvider: string;
}

export interface LoadModelOptions {
  executionProviders?: string[];
  intraOpNumThreads?: number;
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

function checkImageIo(path: string, session: ort.InferenceSession): void {
  const unsupported = (detail: string): never => {
    throw new ModelError(
      'model-unsupported',
      `${path} is not an image upscaling model: ${detail}`,
      'use a super-resolution model with one float32 input [N,3,H,W] and one output [N,3,sH,sW]',
    );
  };
  if (session.inputNames.length !== 1) unsupported(`it has ${session.inputNames.length} inputs`);
  if (session.outputNames.length < 1) unsupported('it has no output');
  const checks: [string, ort.InferenceSession.ValueMetadata | undefined][] = [
    ['input', session.inputMetadata[0]],
    ['output', session.outputMetadata[0]],
  ];
  for (const [what, meta] of checks) {
    if (!meta?.isTensor) unsupported(`its ${what} is not a tensor`);
    else {
      if (meta.type !== 'float32') unsupported(`its ${what} is ${meta.type}, not float32`);
      if (meta.shape.length !== 4) unsupported(`its ${what} has rank ${meta.shape.length}, not 4 (N,C,H,W)`);
      const channels = meta.shape[1];
      if (typeof channels === 'number' && channels !== 3)
        unsupported(`its ${what} has ${channels} channels, not 3 (RGB)`);
    }
  }
}

/** Runs an 8×8 grey image through the model and reads the scale off the output size. */
async function probeScale(path: string, session: ort.InferenceSession): Promise<number> {
  const n = PROBE_SIZE;
  const input = new ort.Tensor('float32', new Float32Array(3 * n * n).fill(0.5), [1, 3, n, n]);
  let dims: readonly number[];
  try {
    const out = await session.run({ [session.inputNames[0]]: input });
    dims = out[session.outputNames[0]].dims;
  } catch (err) {
    throw new ModelError(
      'model-unsupported',
      `${path} fails on an ${n}×${n} RGB probe image: ${err instanceof Error ? err.message : String(err)}`,
      'use a super-resolution model with one float32 input [N,3,H,W] and one output [N,3,sH,sW]',
    );
  }
  const scale = dims[2] / n;
  if (dims.length !== 4 || dims[1] !== 3 || !Number.isInteger(scale) || scale < 1 || dims[3] !== n * scale) {
    throw new ModelError(
      'model-unsupported',
      `${path} turns an ${n}×${n} RGB image into [${dims.join(',')}], not a whole-number upscale`,
      'use a super-resolution model whose output is the input enlarged by an integer factor',
    );
  }
  return scale;
}

async function createSession(path: string, bytes: Uint8Array, opts: LoadModelOptions, eps: string[]) {
  try {
    return await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: 'all',
      executionProviders: eps,
      intraOpNumThreads: opts.intraOpNumThreads ?? availableParallelism(),
    });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    if (eps.some((ep) => ep !== 'cpu') && /provider|backend/i.test(detail)) throw err; // an EP problem, not the model's
    throw new ModelError(
      'model-corrupt',
      `onnxruntime cannot load ${path}: ${detail.split('\n')[0]}`,
      'the file is damaged or uses operators this onnxruntime does not know; regenerate or re-download it',
    );
  }
}

/** Opens a model by id (models.json), by optional-model id (models/<id>.onnx) or by path to a .onnx file. */
export async function loadModel(ref: string, opts: LoadModelOptions = {}): Promise<LoadedModel> {
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
  const eps = opts.executionProviders?.length ? opts.executionProviders : ['cpu'];
  const session = await createSession(path, bytes, opts, eps);
  try {
    checkImageIo(path, session);
    const declared = Number(metadata.get('huaju4k.scale'));
    const scale = Number.isInteger(declared) && declared >= 1 ? declared : await probeScale(path, session);
    return {
      id: entry?.id ?? metadata.get('huaju4k.id') ?? basename(path, extname(path)),
      path,
      scale,
      sha256,
      inputName: session.inputNames[0],
      outputName: session.outputNames[0],
      session,
      executionProvider: eps[0],
    };
  } catch (err) {
    await session.release();
    throw err;
  }
}
