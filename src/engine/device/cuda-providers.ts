import { existsSync, lstatSync, readdirSync, readlinkSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';

/**
 * CUDA for people who installed a .vsix (no npm project to rebuild): the setting `huaju4k.cudaProviderPath`, or this
 * variable for the CLI, names a folder holding ONNX Runtime's CUDA provider libraries (the `lib/` folder of
 * `onnxruntime-linux-x64-gpu-1.30.x.tgz`). onnxruntime loads them from the folder of its own library, next to the
 * binding, so the engine links them there. The CUDA runtime, cuBLAS and cuDNN they need are found by the system
 * loader: installed system-wide, or in the same folder (the extension puts it on LD_LIBRARY_PATH for the engine).
 */
export const CUDA_PROVIDERS_ENV = 'HUAJU4K_CUDA_PROVIDERS';

/** Linked when present; the first two are required. */
const REQUIRED = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
const OPTIONAL = ['libonnxruntime_providers_tensorrt.so'];

const WHERE_TO_GET =
  'download onnxruntime-linux-x64-gpu-1.30.0.tgz from https://github.com/microsoft/onnxruntime/releases, ' +
  'extract it and point huaju4k.cudaProviderPath (or HUAJU4K_CUDA_PROVIDERS) at its lib/ folder';

const fail = (message: string, hint: string): EngineError =>
  new EngineError(ExitCode.environment, 'cuda-providers', message, hint);

export interface LinkCudaOptions {
  /** The folder of onnxruntime_binding.node (providers.ts bindingDir()). */
  bindingDir: string | undefined;
  platform?: NodeJS.Platform;
  arch?: string;
}

function checkFolder(dir: string, platform: string, arch: string): void {
  if (platform !== 'linux' || arch !== 'x64') {
    throw fail(
      `CUDA provider folder ${dir} given on ${platform}/${arch}, but onnxruntime-node 1.30's CUDA providers run on linux/x64 only`,
      platform === 'win32'
        ? 'clear huaju4k.cudaProviderPath: on Windows DirectML (--ep dml, picked by auto) uses any DirectX 12 GPU'
        : 'clear huaju4k.cudaProviderPath (HUAJU4K_CUDA_PROVIDERS); use --ep auto',
    );
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw fail(`CUDA provider folder ${dir} does not exist or is not a folder`, WHERE_TO_GET);
  }
  const missing = REQUIRED.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    const there = readdirSync(dir).filter((f) => f.includes('onnxruntime'));
    throw fail(
      `CUDA provider folder ${dir} lacks ${missing.join(' and ')}` +
        (there.length ? ` (it has ${there.join(', ')})` : ' (no onnxruntime libraries in it)'),
      WHERE_TO_GET,
    );
  }
}

/** True when `dest` is already this file: the same link, or a real file put there by onnxruntime's own installer. */
function alreadyThere(dest: string, source: string): boolean {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(dest);
  } catch {
    return false;
  }
  if (!st.isSymbolicLink()) return true;
  if (resolve(readlinkSync(dest)) === source && existsSync(dest)) return true;
  unlinkSync(dest); // a link to another (or a vanished) folder: replaced below
  return false;
}

/**
 * Links the CUDA provider libraries of `dir` next to onnxruntime's binding. Returns the files linked now (none when
 * they were there already). Throws an EngineError saying what is wrong with the folder, or why it cannot link.
 */
export function linkCudaProviders(dir: string, opts: LinkCudaOptions): string[] {
  const source = resolve(dir);
  checkFolder(source, opts.platform ?? process.platform, opts.arch ?? process.arch);
  const target = opts.bindingDir;
  if (!target) {
    throw fail(
      'onnxruntime-node has no binding folder for linux/x64 here',
      'reinstall the extension (linux-x64 package)',
    );
  }
  const linked: string[] = [];
  for (const name of [...REQUIRED, ...OPTIONAL]) {
    const from = join(source, name);
    const dest = join(target, name);
    if (!existsSync(from) || alreadyThere(dest, from)) continue;
    try {
      symlinkSync(from, dest);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw fail(
        `cannot link ${name} into onnxruntime's folder ${target} (${code})`,
        `make that folder writable, or copy ${REQUIRED.join(' and ')} from ${source} into it yourself`,
      );
    }
    linked.push(name);
  }
  return linked;
}
