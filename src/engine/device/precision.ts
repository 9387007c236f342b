import { PRECISION_CHOICES } from '../../protocol/cli-options';
import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';
import {
  Fp16UnavailableError,
  hasInt8Variant,
  Int8UnavailableError,
  int8ModelIds,
  type LoadedModel,
  type Precision,
} from '../model/loader';
import { type ProviderName, providerLabel } from './providers';
import type { EngineWarning } from './select-provider';

export { PRECISION_CHOICES };

export type PrecisionChoice = (typeof PRECISION_CHOICES)[number];

export function parsePrecisionOption(text: string | undefined): PrecisionChoice {
  if (text === undefined) return 'auto';
  const t = text.toLowerCase();
  if ((PRECISION_CHOICES as readonly string[]).includes(t)) return t as PrecisionChoice;
  throw new RangeError(`--precision must be one of ${PRECISION_CHOICES.join(', ')}, got "${text}"`);
}

/**
 * `auto` is fp16 on the GPU providers that run fp16 graphs (CUDA, TensorRT, DirectML, WebGPU: tensor cores, half the
 * memory traffic and VRAM per pixel) and fp32 on the CPU, where x86 has no fp16 kernels and onnxruntime would cast
 * every node back to float32, only slower. CoreML also gets the fp32 graph: Core ML itself computes in half
 * precision on the Apple GPU and Neural Engine, and its onnxruntime provider takes fewer fp16 nodes than fp32 ones.
 * On the CPU `auto` is int8 for a model whose verified int8 variant models.json marks for it (`int8Auto`: measured
 * at least 1.8× faster than fp32 within the quality gates), fp32 otherwise.
 */
export function wantedPrecision(choice: PrecisionChoice, provider: ProviderName, int8Auto = false): Precision {
  if (choice !== 'auto') return choice;
  if (provider === 'cpu') return int8Auto ? 'int8' : 'fp32';
  return provider === 'coreml' ? 'fp32' : 'fp16';
}

export interface PrecisionOpen {
  model: LoadedModel;
  warnings: EngineWarning[];
}

/** Loads the model in one precision; `noCpuFallback` makes a session that would run nodes on the CPU fail instead. */
export type LoadInPrecision = (precision: Precision, noCpuFallback: boolean) => Promise<LoadedModel>;

const isVariantRefusal = (err: unknown): err is Error =>
  err instanceof Fp16UnavailableError || err instanceof Int8UnavailableError;

/**
 * Opens the model on `provider` in the precision `choice` asks for. On a GPU provider the fp16 session must run
 * every node there. Under `auto`, a refused fp16 or int8 session falls back to fp32 on the same provider with a
 * warning. An explicit `fp16` or `int8` is never downgraded: the refusal goes to the provider selection, which passes
 * over the provider and says why. int8 is a CPU precision: its QDQ graph is measured and verified there only, so an
 * explicit `int8` passes over the GPU providers.
 */
export async function openWithPrecision(
  choice: PrecisionChoice,
  provider: ProviderName,
  load: LoadInPrecision,
  int8Auto = false,
): Promise<PrecisionOpen> {
  const precision = wantedPrecision(choice, provider, int8Auto);
  if (precision === 'fp32') return { model: await load('fp32', false), warnings: [] };
  if (precision === 'int8' && provider !== 'cpu')
    throw new Int8UnavailableError(`int8 runs on the CPU only, not on ${providerLabel(provider)}`);
  try {
    return { model: await load(precision, precision === 'fp16' && provider !== 'cpu'), warnings: [] };
  } catch (err) {
    if (!isVariantRefusal(err) || choice !== 'auto') throw err;
    const model = await load('fp32', false);
    const twice = precision === 'fp16' ? ', which is slower and needs about twice the memory per pixel' : '';
    const warning: EngineWarning = {
      code: `${precision}-unavailable`,
      message:
        `${providerLabel(provider)} cannot run this model in ${precision} (${err.message}); running it in fp32` +
        `${twice}. Pass --precision fp32 to skip the attempt.`,
    };
    return { model, warnings: [warning] };
  }
}

/**
 * The precision a checkpoint recorded (pixel-params.ts writes fp16 and int8, nothing for fp32): a resumed `auto` job
 * keeps it, since it changes the pixels.
 */
export function pinnedPrecision(recorded: unknown): Precision {
  return recorded === 'fp16' || recorded === 'int8' ? recorded : 'fp32';
}

/**
 * An explicit `--precision int8` on a model that has no verified int8 variant is a bad choice, not a provider
 * problem: refused before the model loads (exit 2), with the models that have one.
 */
export function checkInt8Choice(choice: PrecisionChoice, modelRef: string): void {
  if (choice !== 'int8' || hasInt8Variant(modelRef)) return;
  const ids = int8ModelIds();
  throw new EngineError(
    ExitCode.badInput,
    'int8-unavailable',
    `${modelRef} has no verified int8 variant, so --precision int8 cannot run it`,
    `${ids.length ? `int8 variants exist for: ${ids.join(', ')}; ` : ''}or use --precision auto (fp32 on the CPU) for this model`,
  );
}
