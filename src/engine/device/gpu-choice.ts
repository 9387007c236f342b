/**
 * Which GPU a model opens on. `--gpu n` (or HUAJU4K_GPU=n in the environment, which is how `--devices 0,1`, the
 * farm's `worker --device n` and the hub's AI workers hand a GPU to an engine) becomes the execution provider's own
 * `deviceId`: CUDA and TensorRT count the devices CUDA sees, DirectML the adapters Windows lists. The other GPU
 * providers cannot be pointed at a GPU from Node (WebGPU takes the system's default adapter, CoreML the Mac's GPU),
 * so for them any GPU but the first is refused with what to do, instead of quietly running on GPU 0.
 */
import type { ProviderName } from './providers';

export const GPU_ENV = 'HUAJU4K_GPU';

/** Providers whose session options take a `deviceId`. */
const CHOOSES_GPU: ReadonlySet<ProviderName> = new Set(['cuda', 'tensorrt', 'dml']);

/** A GPU that cannot be used with this provider; worded for explainProviderError's `cannot choose GPU` case. */
export class GpuChoiceError extends Error {}

/** `n` → n; throws a RangeError naming the option for anything but a non-negative integer. */
export function parseGpu(text: string, what = '--gpu'): number {
  const t = text.trim();
  if (!/^\d{1,3}$/.test(t)) throw new RangeError(`${what} must be a GPU index (0, 1, …), got "${text}"`);
  return Number(t);
}

/** The GPU asked for through the environment (HUAJU4K_GPU), or undefined. */
export function gpuFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env[GPU_ENV];
  return v === undefined || v === '' ? undefined : parseGpu(v, GPU_ENV);
}

/** What to put in ORT's `executionProviders` for `provider` on GPU `gpu`. */
export function providerEntry(provider: string, gpu: number | undefined): string | { name: string; deviceId: number } {
  if (gpu === undefined || !CHOOSES_GPU.has(provider as ProviderName)) return provider;
  return { name: provider, deviceId: gpu };
}

/** Throws GpuChoiceError when `provider` cannot open GPU `gpu` (any GPU but the first on WebGPU/CoreML). */
export function checkGpuChoice(provider: ProviderName, gpu: number | undefined): void {
  if (gpu === undefined || gpu === 0 || provider === 'cpu' || CHOOSES_GPU.has(provider)) return;
  throw new GpuChoiceError(
    `cannot choose GPU ${gpu}: ${provider === 'webgpu' ? 'WebGPU' : 'CoreML'} in Node opens the system's default GPU only`,
  );
}

/**
 * nvidia-smi's index for the GPU a CUDA session calls `gpu`: CUDA counts only the devices in CUDA_VISIBLE_DEVICES,
 * nvidia-smi counts them all. (Both in PCI bus order only when CUDA_DEVICE_ORDER=PCI_BUS_ID; the VRAM budget is the
 * one figure read through this, and a wrong pick only makes it the other card's.)
 */
export function smiIndex(gpu: number, env: NodeJS.ProcessEnv = process.env): number {
  const visible = (env.CUDA_VISIBLE_DEVICES ?? '').split(',').map((s) => s.trim());
  const mapped = visible[gpu];
  return mapped !== undefined && /^\d+$/.test(mapped) ? Number(mapped) : gpu;
}
