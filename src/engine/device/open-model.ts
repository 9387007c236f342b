import { cpus, freemem } from 'node:os';
import { BYTES_PER_LR_PIXEL } from '../inference/tile-size';
import { type LoadedModel, loadModel, ModelError } from '../model/loader';
import { ort } from '../model/ort';
import { effectiveBudget, type MemoryModel, tileForBudget } from './budget';
import {
  type CalibrationResult,
  calibrate,
  type MemoryProbe,
  NvidiaProcessProbe,
  ProcessMemoryProbe,
} from './calibration';
import { cachedCalibration, calibrationFile, readCalibration } from './calibration-cache';
import { autoRunsInt8 } from './cpu-int8';
import { CUDA_PROVIDERS_ENV, linkCudaProviders } from './cuda-providers';
import { checkGpuChoice, gpuFromEnv, smiIndex } from './gpu-choice';
import { queryGpuState } from './nvidia-smi';
import { isAllocationFailure } from './oom';
import { openWithPrecision, type PrecisionChoice } from './precision';
import { type ProbeAnswer, ProviderProbeError, probeProvider } from './provider-probe';
import { bindingDir, type EpChoice, type ProviderName, planProviders, type SupportedBackend } from './providers';
import { type EngineWarning, openOnBestProvider } from './select-provider';

export interface OpenModelOptions {
  modelRef: string;
  ep: EpChoice;
  /** Default 'auto': fp16 on the GPU providers, fp32 (or a verified int8 marked for it) on the CPU (gpu/precision.ts). */
  precision?: PrecisionChoice;
  /** Cap for the GPU providers (bytes); the CPU provider sizes tiles from free RAM instead. */
  vramBudgetBytes: number;
  /** RAM the run's frames will take (the frame buffer, ×4 outputs included): not available to the CPU tiles. */
  reservedBytes?: number;
  tile: number | 'auto';
  /** Low-res frame size, for `tile: 'auto'`. */
  frame: { width: number; height: number };
  pad: number;
  intraOpNumThreads?: number;
  /** See LoadModelOptions.cpuMemArena. */
  cpuMemArena?: boolean;
  /** The GPU to open on (device/gpu-choice.ts); default: HUAJU4K_GPU, else the provider's default. */
  gpu?: number;
  /** A folder of ONNX Runtime's CUDA provider libraries to link next to the binding (default: $HUAJU4K_CUDA_PROVIDERS). */
  cudaProviders?: string;
  /** Test seams: what listSupportedBackends() says, the nvidia-smi binary, the calibration cache file. */
  backends?: readonly SupportedBackend[];
  smi?: string;
  calibrationFile?: string;
}

export interface MemoryPlan {
  memory: MemoryModel;
  /** 'calibrated' (measured now), 'cached' (measured before on this model+provider+device), or 'default'. */
  source: 'calibrated' | 'cached' | 'default';
  budgetBytes: number;
  estimateBytes: number;
  calibration?: CalibrationResult;
}

export interface OpenedModel {
  model: LoadedModel;
  provider: ProviderName;
  tile: number;
  warnings: EngineWarning[];
  /** `auto` passed a provider over: one line for a terminal (select-provider.ts fallbackSummary). */
  summary?: EngineWarning;
  /** Present when the tile came from the budget (`tile: 'auto'`). */
  plan?: MemoryPlan;
}

/** The conservative fallback when nothing can be measured (tile-size.ts's figure for a compact model). */
const DEFAULT_MEMORY: MemoryModel = { fixedBytes: 0, bytesPerPixel: BYTES_PER_LR_PIXEL };
const CPU_SHARE_OF_FREE_RAM = 0.25;

function runSideWith(model: LoadedModel): (side: number) => Promise<void> {
  return async (side) => {
    const input = new (ort().Tensor)('uint8', new Uint8Array(3 * side * side).fill(128), [1, side, side, 3]);
    const out = await model.session.run({ [model.inputName]: input });
    out[model.outputName].dispose();
  };
}

const cpuBudget = (reservedBytes = 0): number =>
  Math.floor(Math.max(0, freemem() - reservedBytes) * CPU_SHARE_OF_FREE_RAM);
const cpuDevice = (): string => cpus()[0]?.model?.trim() || 'cpu';

/**
 * `tile: 'auto'` on the CPU as planMemory picks it, from this model's cached calibration only (no session):
 * undefined when it was never measured here (only a session can measure it).
 */
export function cachedCpuTile(
  graphSha256: string,
  precision: LoadedModel['precision'],
  opts: Pick<OpenModelOptions, 'frame' | 'pad' | 'reservedBytes' | 'calibrationFile'>,
): number | undefined {
  const key = {
    modelSha256: graphSha256,
    provider: 'cpu' as const,
    device: cpuDevice(),
    ortVersion: ortVersion(),
    precision,
  };
  const memory = readCalibration(key, opts.calibrationFile ?? calibrationFile());
  if (!memory) return undefined;
  return tileForBudget({ ...opts.frame, pad: opts.pad, budgetBytes: cpuBudget(opts.reservedBytes), memory }).tile;
}

const ortVersion = (): string => ort().env.versions.node ?? '?';

async function planMemory(
  model: LoadedModel,
  provider: ProviderName,
  opts: OpenModelOptions,
  warnings: EngineWarning[],
): Promise<MemoryPlan & { tile: number }> {
  const onGpu = provider !== 'cpu';
  let budget: number;
  let device: string;
  let probe: MemoryProbe | undefined;
  if (onGpu) {
    const state = await queryGpuState(opts.vramBudgetBytes, opts.smi);
    const index = smiIndex(opts.gpu ?? 0);
    const mine = state.available ? state.gpus.find((g) => g.index === index) : undefined;
    budget = effectiveBudget(opts.vramBudgetBytes, mine);
    device = mine?.name ?? `${provider}-gpu`;
    probe = mine ? new NvidiaProcessProbe(opts.smi, index) : undefined;
  } else {
    budget = cpuBudget(opts.reservedBytes);
    device = cpuDevice();
    probe = new ProcessMemoryProbe();
  }
  let memory = DEFAULT_MEMORY;
  let source: MemoryPlan['source'] = 'default';
  let calibration: CalibrationResult | undefined;
  if (probe) {
    const key = {
      // The graph that runs (the CPU's max-form PRelus hold more activations than the file's PRelus).
      modelSha256: model.graphSha256,
      provider,
      device,
      ortVersion: ortVersion(),
      precision: model.precision,
    };
    const sides = onGpu ? [128, 256] : [64, 128];
    const measure = () => calibrate(runSideWith(model), probe, { scale: model.scale, sides });
    try {
      const got = await cachedCalibration(key, measure, opts.calibrationFile ?? calibrationFile());
      if (got) {
        memory = got.result;
        calibration = got.result;
        source = got.cached ? 'cached' : 'calibrated';
      }
    } catch (err) {
      if (!isAllocationFailure(err)) throw err;
      warnings.push({
        code: 'calibration-oom',
        message: `not enough memory for the ${sides.join('/')} px calibration runs; sizing tiles from a default estimate`,
      });
    }
  }
  const choice = tileForBudget({ ...opts.frame, pad: opts.pad, budgetBytes: budget, memory });
  if (!choice.fits) {
    const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
    warnings.push({
      code: 'memory-budget-tight',
      message:
        `even a ${choice.tile} px tile is estimated at ${mib(choice.estimateBytes)}, over the ` +
        `${onGpu ? 'VRAM budget' : 'memory share'} of ${mib(budget)}; running anyway (out of memory halves the tile)`,
    });
  }
  return { memory, source, budgetBytes: budget, estimateBytes: choice.estimateBytes, calibration, tile: choice.tile };
}

/**
 * Opens the model on the best provider `--ep` allows (falling back with warnings under `auto`), in the precision
 * `--precision` asks for (fp16 on GPU providers under `auto`), then picks the tile:
 * the given one, or for `auto` the largest that fits the budget according to the model's measured memory per pixel
 * (calibrated once per model+provider+device and cached).
 */
export async function openModel(opts: OpenModelOptions): Promise<OpenedModel> {
  const cudaDir = opts.cudaProviders ?? process.env[CUDA_PROVIDERS_ENV];
  if (cudaDir) linkCudaProviders(cudaDir, { bindingDir: bindingDir() });
  const backends = opts.backends ?? ort().listSupportedBackends();
  const plan = planProviders(opts.ep, { backends });
  const gpu = opts.gpu ?? gpuFromEnv();
  const selection = await openOnBestProvider(
    opts.ep,
    plan,
    async (provider) => {
      // A GPU provider is tried in a child first, so its native stderr noise never reaches the user (provider-probe.ts).
      checkGpuChoice(provider, gpu);
      const answer: ProbeAnswer = provider === 'cpu' ? { ok: true } : await probeProvider(provider, gpu);
      if (!answer.ok) throw new ProviderProbeError(answer.message);
      return openWithPrecision(
        opts.precision ?? 'auto',
        provider,
        (precision, noCpuFallback) =>
          loadModel(opts.modelRef, {
            executionProviders: [provider],
            intraOpNumThreads: opts.intraOpNumThreads,
            cpuMemArena: opts.cpuMemArena,
            gpu,
            precision,
            noCpuFallback,
          }),
        autoRunsInt8(opts.modelRef),
      );
    },
    (err) => !(err instanceof ModelError),
  );
  const { provider } = selection;
  const { model } = selection.value;
  const warnings = [...selection.warnings, ...selection.value.warnings];
  const { summary } = selection;
  try {
    if (opts.tile !== 'auto') return { model, provider, tile: opts.tile, warnings, summary };
    const { tile, ...memoryPlan } = await planMemory(model, provider, { ...opts, gpu }, warnings);
    return { model, provider, tile, warnings, summary, plan: memoryPlan };
  } catch (err) {
    await model.session.release();
    throw err;
  }
}
