import { createHash } from 'node:crypto';
import { ExitCode } from '../../protocol/engine-events';
import { autoRunsInt8 } from '../device/cpu-int8';
import { CUDA_PROVIDERS_ENV } from '../device/cuda-providers';
import { checkGpuChoice, gpuFromEnv } from '../device/gpu-choice';
import { cachedCpuTile } from '../device/open-model';
import { type PrecisionChoice, wantedPrecision } from '../device/precision';
import { ProviderProbeError, probeProvider } from '../device/provider-probe';
import { type EpChoice, type ProviderName, planProviders } from '../device/providers';
import { type EngineWarning, openOnBestProvider, type ProviderSelection } from '../device/select-provider';
import { EngineError } from '../errors';
import type { FrameUpscaler } from '../frame-stage';
import { nullModelMeta } from '../inference/infer-worker';
import { NULL_MODEL_ID } from '../inference/null-model';
import {
  graphFor,
  Int8UnavailableError,
  inspectModel,
  ModelError,
  type ModelFile,
  type Precision,
} from '../model/loader';
import { ort } from '../model/ort';
import type { EngineModel } from '../pipeline/pipeline-types';

export interface CoordinatorModelOptions {
  modelRef: string;
  ep: EpChoice;
  /** As the model worker gets it: a resumed job's pinned precision, else --precision. */
  precision: PrecisionChoice;
  /** As the model worker gets it: a resumed job's pinned tile, else --tile. */
  tile: number | 'auto';
  gpu?: number;
  frame: { width: number; height: number };
  pad: number;
  reservedBytes: number;
  /** Test seam: the calibration cache file (default: the cache folder's). */
  calibrationFile?: string;
}

/** What the coordinator of a split job knows of its model: what a checkpoint records, and the `done` report's. */
export interface CoordinatorModel {
  model: EngineModel;
  tile: number;
  /** A stand-in for the model runner: the coordinator plans the job with its scale and never runs a frame. */
  upscaler: FrameUpscaler;
  /** The providers `auto` passed over, as the model's open says them (select-provider.ts). */
  warnings: EngineWarning[];
  summary?: EngineWarning;
}

/**
 * The model of a split job as the coordinator records it, **without an inference session**: the coordinator runs
 * no frame (its range engines each open their own), so opening the model there — reading it, building its int8 or
 * max-PRelu graph, creating and probing a session, choosing the provider — was a second model start on every split
 * job. This makes the same choices open-model.ts makes, from what needs no session: the model file checked as
 * loadModel checks it (the same `model-not-found` / `model-corrupt` errors), the CPU provider once every GPU provider
 * `auto` would try has failed its probe (a child, not the model), the precision `auto` picks there (int8 when
 * models.json marks it and the variant verifies, else fp32), the scale the file declares, and an `auto` tile from
 * this model's cached calibration. Undefined where only a session can tell — a GPU provider that passes its probe
 * (whether it takes the fp16 graph), a model without a declared scale, an `auto` tile never calibrated here, an
 * explicit fp16 on the CPU — and the caller then opens the model as a plain run does.
 */
export async function describeCoordinatorModel(o: CoordinatorModelOptions): Promise<CoordinatorModel | undefined> {
  if (o.modelRef === NULL_MODEL_ID) {
    const { inputName: _i, outputName: _o, ...model } = nullModelMeta();
    return { model, tile: o.tile === 'auto' ? 0 : o.tile, upscaler: standIn(model.scale), warnings: [] };
  }
  const file = inspectOrRefuse(o.modelRef);
  if (file.declaredScale === undefined || process.env[CUDA_PROVIDERS_ENV]) return undefined;
  const selection = await cpuSelection(o.ep, o.gpu ?? gpuFromEnv());
  if (!selection) return undefined;
  const picked = cpuPrecision(o, file);
  if (!picked) return undefined;
  const { precision, graphSha256 } = picked;
  const tile = o.tile === 'auto' ? cachedCpuTile(graphSha256(), precision, o) : o.tile;
  if (tile === undefined) return undefined;
  const model: EngineModel = {
    ...{ id: file.id, path: file.path, scale: file.declaredScale, sha256: file.sha256 },
    ...{ executionProvider: 'cpu', precision },
    ...(precision === 'int8' && file.entry?.int8 && { int8Sha256: file.entry.int8.sha256 }),
  };
  const { warnings, summary } = selection;
  return { model, tile, upscaler: standIn(file.declaredScale), warnings, summary };
}

/** The model file checked, its refusal the EngineError the model worker gives for it (infer-worker.ts). */
function inspectOrRefuse(modelRef: string): ModelFile {
  try {
    return inspectModel(modelRef);
  } catch (err) {
    if (err instanceof ModelError) throw new EngineError(ExitCode.environment, err.reason, err.message, err.hint);
    throw err;
  }
}

/** A GPU provider passed its probe: only a session of the model tells what runs there. */
class NeedsSession extends Error {}

/**
 * Whether `--ep` ends on the CPU here — `cpu`, or `auto` with every GPU provider before it failing its probe — with
 * the warnings open-model.ts gives for the providers passed over (the same provider selection, the same probe).
 */
async function cpuSelection(ep: EpChoice, gpu: number | undefined): Promise<ProviderSelection<true> | undefined> {
  const plan = planProviders(ep, { backends: ort().listSupportedBackends() });
  const open = async (provider: ProviderName): Promise<true> => {
    if (provider === 'cpu') return true;
    checkGpuChoice(provider, gpu);
    const answer = await probeProvider(provider, gpu);
    if (!answer.ok) throw new ProviderProbeError(answer.message);
    throw new NeedsSession(provider);
  };
  try {
    return await openOnBestProvider(ep, plan, open, (err) => !(err instanceof NeedsSession));
  } catch (err) {
    // No provider at all (an explicit --ep that cannot run): the model's open says so, as before.
    if (err instanceof NeedsSession || err instanceof EngineError) return undefined;
    throw err;
  }
}

/**
 * The CPU's precision as openWithPrecision picks it (an `auto` int8 whose variant does not verify is fp32 there
 * too), and the sha256 of the graph it runs (the calibration's key: built only when an `auto` tile needs it, or to
 * verify the int8 variant). undefined: an explicit fp16, or an explicit int8 that does not verify (the caller opens
 * the model and says why).
 */
function cpuPrecision(
  o: CoordinatorModelOptions,
  file: ModelFile,
): { precision: Precision; graphSha256: () => string } | undefined {
  const graphSha = (graph: Uint8Array) =>
    graph === file.bytes ? file.sha256 : createHash('sha256').update(graph).digest('hex');
  const fp32 = { precision: 'fp32' as const, graphSha256: () => graphSha(graphFor(file, 'fp32', ['cpu'])) };
  const precision = wantedPrecision(o.precision, 'cpu', autoRunsInt8(o.modelRef));
  if (precision === 'fp32') return fp32;
  if (precision === 'fp16') return undefined;
  try {
    const sha = graphSha(graphFor(file, 'int8', ['cpu']));
    return { precision, graphSha256: () => sha };
  } catch (err) {
    if (!(err instanceof Int8UnavailableError) || o.precision !== 'auto') return undefined;
    return fp32;
  }
}

function standIn(scale: number): FrameUpscaler {
  return {
    scale,
    upscale: () => Promise.reject(new Error('the coordinator of a split job runs no frame (its range engines do)')),
  };
}
