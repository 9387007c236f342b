import { Fp16UnavailableError, type LoadedModel, type Precision } from '../model/loader';
import { type ProviderName, providerLabel } from './providers';
import type { EngineWarning } from './select-provider';

/** What `--precision` accepts. */
export const PRECISION_CHOICES = ['auto', 'fp16', 'fp32'] as const;
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
 */
export function wantedPrecision(choice: PrecisionChoice, provider: ProviderName): Precision {
  if (choice !== 'auto') return choice;
  return provider === 'cpu' || provider === 'coreml' ? 'fp32' : 'fp16';
}

export interface PrecisionOpen {
  model: LoadedModel;
  warnings: EngineWarning[];
}

/** Loads the model in one precision; `noCpuFallback` makes a session that would run nodes on the CPU fail instead. */
export type LoadInPrecision = (precision: Precision, noCpuFallback: boolean) => Promise<LoadedModel>;

/**
 * Opens the model on `provider` in the precision `choice` asks for. On a GPU provider the fp16 session must run
 * every node there. Under `auto`, a refused fp16 session (an operator without fp16, a GPU without fp16 kernels)
 * falls back to fp32 on the same provider with an `fp16-unavailable` warning. An explicit `fp16` is never
 * downgraded: the refusal goes to the provider selection, which passes over the provider and says why.
 */
export async function openWithPrecision(
  choice: PrecisionChoice,
  provider: ProviderName,
  load: LoadInPrecision,
): Promise<PrecisionOpen> {
  const precision = wantedPrecision(choice, provider);
  if (precision === 'fp32') return { model: await load('fp32', false), warnings: [] };
  try {
    return { model: await load('fp16', provider !== 'cpu'), warnings: [] };
  } catch (err) {
    if (!(err instanceof Fp16UnavailableError) || choice === 'fp16') throw err;
    const model = await load('fp32', false);
    const warning: EngineWarning = {
      code: 'fp16-unavailable',
      message:
        `${providerLabel(provider)} cannot run this model in fp16 (${err.message}); running it in fp32, ` +
        'which is slower and needs about twice the memory per pixel. Pass --precision fp32 to skip the attempt.',
    };
    return { model, warnings: [warning] };
  }
}
