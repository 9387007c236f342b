import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EP_CHOICES } from '../../protocol/cli-options';

export { EP_CHOICES };

export type EpChoice = (typeof EP_CHOICES)[number];
export type ProviderName = Exclude<EpChoice, 'auto'>;

/** onnxruntime-node's `listSupportedBackends()` entry: `bundled: false` means the provider library is a separate install. */
export interface SupportedBackend {
  name: string;
  bundled: boolean;
}

/**
 * The order `auto` tries on each platform: its native GPU provider (CUDA on Linux, DirectML on Windows, CoreML on
 * macOS), then WebGPU, then the CPU. TensorRT is left out on purpose: it builds an engine for every new input shape,
 * and the tiler feeds several (full tiles, edge tiles, whole frames), so its start-up costs minutes; ask for it by
 * name.
 */
export function autoOrder(platform: NodeJS.Platform = process.platform): readonly ProviderName[] {
  if (platform === 'win32') return ['dml', 'webgpu', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'webgpu', 'cpu'];
  return ['cuda', 'webgpu', 'cpu'];
}

export const CUDA_INSTALL_HINT =
  'set huaju4k.cudaProviderPath (CLI: HUAJU4K_CUDA_PROVIDERS) to the lib/ folder of onnxruntime-linux-x64-gpu-1.30.0.tgz, ' +
  'or in an npm checkout run `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js` ' +
  '(either needs an NVIDIA driver, CUDA 12 and cuDNN 9)';

const LABEL: Record<ProviderName, string> = {
  cuda: 'CUDA',
  tensorrt: 'TensorRT',
  dml: 'DirectML',
  coreml: 'CoreML',
  webgpu: 'WebGPU',
  cpu: 'CPU',
};
export const providerLabel = (p: ProviderName): string => LABEL[p];

export function parseEpOption(text: string | undefined): EpChoice {
  if (text === undefined) return 'auto';
  const t = text.toLowerCase();
  if ((EP_CHOICES as readonly string[]).includes(t)) return t as EpChoice;
  throw new RangeError(`--ep must be one of ${EP_CHOICES.join(', ')}, got "${text}"`);
}

/** Why a provider cannot be used, and what the user can do about it. */
export interface ProviderProblem {
  provider: ProviderName;
  reason: string;
  hint: string;
}

export interface ProviderPlan {
  /** Providers to try, in order; the last is the one that must work. */
  candidates: ProviderName[];
  /** Providers ruled out before trying (not offered by this build, libraries missing). */
  skipped: ProviderProblem[];
}

/** The folder holding onnxruntime_binding.node, where the CUDA install puts the CUDA/TensorRT provider libraries. */
export function bindingDir(): string | undefined {
  try {
    const pkg = require.resolve('onnxruntime-node/package.json');
    const dir = join(dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

const PROVIDER_LIBS: Partial<Record<ProviderName, string[]>> = {
  cuda: ['onnxruntime_providers_shared', 'onnxruntime_providers_cuda'],
  tensorrt: ['onnxruntime_providers_shared', 'onnxruntime_providers_tensorrt'],
};

function libFile(name: string, platform: NodeJS.Platform): string {
  if (platform === 'win32') return `${name}.dll`;
  if (platform === 'darwin') return `lib${name}.dylib`;
  return `lib${name}.so`;
}

/** The provider libraries a non-bundled provider needs that are not next to the binding. */
export function missingProviderLibs(
  provider: ProviderName,
  dir: string | undefined = bindingDir(),
  platform: NodeJS.Platform = process.platform,
): string[] {
  const libs = (PROVIDER_LIBS[provider] ?? []).map((l) => libFile(l, platform));
  if (!dir) return libs;
  return libs.filter((l) => !existsSync(join(dir, l)));
}

export interface PlanInputs {
  backends: readonly SupportedBackend[];
  /** Defaults to looking next to the installed binding. */
  missingLibs?: (provider: ProviderName) => string[];
  platform?: NodeJS.Platform;
  arch?: string;
}

/** Where onnxruntime-node 1.30's prebuilt packages carry each provider (listSupportedBackends per binding). */
const WHERE_OFFERED: Partial<Record<ProviderName, string>> = {
  cuda: 'the prebuilt CUDA/TensorRT providers exist for linux/x64 only',
  tensorrt: 'the prebuilt CUDA/TensorRT providers exist for linux/x64 only',
  dml: 'DirectML is Windows-only (the win32-x64 and win32-arm64 packages)',
  coreml: 'CoreML is macOS-only (the darwin-arm64 package)',
  webgpu: 'WebGPU is in the linux-x64, win32 and darwin-arm64 packages',
};

function offeredProblem(provider: ProviderName, platform: string, arch: string): ProviderProblem {
  const where = `${platform}/${arch}`;
  const gpu = autoOrder(platform as NodeJS.Platform)[0];
  return {
    provider,
    reason: `this onnxruntime-node build has no ${LABEL[provider]} provider on ${where}`,
    hint: `${WHERE_OFFERED[provider] ?? 'not offered here'}; use --ep auto (tries ${LABEL[gpu]}, then WebGPU, then the CPU) or --ep cpu`,
  };
}

/**
 * Turns `--ep` into the providers to try. For `auto`, providers the build does not offer or whose libraries are not
 * installed are skipped with a reason; an explicit choice is tried even then, so its real error reaches the user.
 */
export function planProviders(choice: EpChoice, inputs: PlanInputs): ProviderPlan {
  const platform = inputs.platform ?? process.platform;
  const arch = inputs.arch ?? process.arch;
  const missingLibs = inputs.missingLibs ?? ((p: ProviderName) => missingProviderLibs(p, bindingDir(), platform));
  const offered = new Map(inputs.backends.map((b) => [b.name, b]));
  if (choice !== 'auto') {
    if (choice !== 'cpu' && !offered.has(choice)) {
      return { candidates: [], skipped: [offeredProblem(choice, platform, arch)] };
    }
    return { candidates: [choice], skipped: [] };
  }
  const candidates: ProviderName[] = [];
  const skipped: ProviderProblem[] = [];
  for (const p of autoOrder(platform)) {
    const backend = offered.get(p);
    if (p !== 'cpu' && !backend) {
      skipped.push(offeredProblem(p, platform, arch));
      continue;
    }
    const missing = backend && !backend.bundled ? missingLibs(p) : [];
    if (missing.length) {
      skipped.push({
        provider: p,
        reason: `${LABEL[p]} providers not installed (${missing.join(', ')} missing next to onnxruntime-node's binding)`,
        hint: CUDA_INSTALL_HINT,
      });
      continue;
    }
    candidates.push(p);
  }
  return { candidates, skipped };
}

const firstLine = (text: string): string =>
  text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0) ?? text;

/** Reads a session-creation error of provider `provider` and says why, in words, and how to fix it. */
export function explainProviderError(provider: ProviderName, message: string): ProviderProblem {
  const label = LABEL[provider];
  const m = message;
  const result = (reason: string, hint: string): ProviderProblem => ({ provider, reason, hint });
  if (/backend not found/i.test(m)) {
    return result(
      `this onnxruntime-node build has no ${label} provider on ${process.platform}/${process.arch}`,
      `${WHERE_OFFERED[provider] ?? 'not offered here'}; use --ep auto or --ep cpu`,
    );
  }
  const lib = /(lib(?:cudart|cublas|cublasLt|cudnn|cufft|curand|nvinfer|nvonnxparser)[\w.]*\.so[\w.]*)/.exec(m);
  if (lib) {
    return result(
      `${label} needs ${lib[1]}, which the loader cannot find`,
      'install CUDA 12 and cuDNN 9 (and TensorRT 10 for --ep tensorrt) system-wide, or put their libraries in the ' +
        'huaju4k.cudaProviderPath folder (the extension adds it to LD_LIBRARY_PATH; on the CLI set LD_LIBRARY_PATH)',
    );
  }
  if (/Failed to load shared library|libonnxruntime_providers_\w+\.(so|dll|dylib)/i.test(m)) {
    return result(`${label} providers not installed (${firstLine(m)})`, CUDA_INSTALL_HINT);
  }
  if (
    /no CUDA-capable device|CUDA driver version is insufficient|cudaErrorNoDevice|CUDA failure 100|CUDA failure 35/i.test(
      m,
    )
  ) {
    return result(
      `${label}: no usable NVIDIA GPU or driver (${firstLine(m)})`,
      'check `nvidia-smi`; install or update the NVIDIA driver, or use --ep webgpu / --ep cpu',
    );
  }
  if (/adapter/i.test(m) && provider === 'webgpu') {
    return result(
      `WebGPU found no GPU adapter (${/No supported adapters/i.test(m) ? 'No supported adapters' : firstLine(m)})`,
      'WebGPU needs a Vulkan GPU driver on Linux (apt install libvulkan1 plus your GPU vendor driver); ' +
        'software Vulkan (lavapipe) is not accepted',
    );
  }
  const gpu = /cannot choose GPU (\d+)/.exec(m);
  if (gpu) {
    return result(
      firstLine(m),
      `only CUDA and TensorRT (Linux) and DirectML (Windows) open a chosen GPU; use one of them for GPU ${gpu[1]}, ` +
        'or run this job on GPU 0',
    );
  }
  return result(`${label} failed to start: ${firstLine(m)}`, `use --ep auto to fall back, or --ep cpu`);
}
