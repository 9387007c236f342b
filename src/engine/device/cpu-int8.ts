import { readFileSync } from 'node:fs';
import { autoPicksInt8 } from '../model/loader';

/** What decides whether this CPU runs int8 models without saturating (cpuInt8Exact). */
export interface CpuInfo {
  platform: NodeJS.Platform;
  arch: string;
  /** The CPU's feature flags (Linux /proc/cpuinfo `flags` on x86, `Features` on ARM); empty where unknown. */
  flags: string[];
}

/** This machine's. */
export function cpuInfo(): CpuInfo {
  let flags: string[] = [];
  if (process.platform === 'linux') {
    try {
      const text = readFileSync('/proc/cpuinfo', 'utf8');
      const line = /^(?:flags|Features)\s*:(.*)$/m.exec(text);
      flags = line ? line[1].trim().split(/\s+/) : [];
    } catch {
      flags = [];
    }
  }
  return { platform: process.platform, arch: process.arch, flags };
}

/** x86 flags of int8 dot products summed in int32 (VNNI, AMX); ARM's dot-product instructions. */
const X86_INT8_DOT = ['avx512_vnni', 'avx_vnni', 'amx_int8'];
const ARM_INT8_DOT = ['asimddp', 'i8mm'];

/**
 * Whether this CPU runs the int8 variants as exactly as they were verified. onnxruntime's u8s8 kernels on x86 without
 * VNNI (AVX2, AVX-512 without VNNI) add pairs of products into int16 with saturation (VPMADDUBSW), so the int8 model
 * drifts from fp32: on an AMD EPYC with AVX2 only, realesr-animevideov3-x4 in int8 was 32.9 dB from fp32 on real
 * frames (≥ 40 dB with VNNI, the gate it was verified against). With VNNI or AMX the products are summed in int32, and
 * ARM64's dot-product instructions (every Apple silicon Mac, asimddp on Linux, the Snapdragons Windows on ARM runs
 * on) do the same. Where the flags cannot be read (Windows and macOS on x64), it answers no. `HUAJU4K_INT8_EXACT=1`
 * (or `0`) says so instead.
 */
export function cpuInt8Exact(info: CpuInfo = cpuInfo(), env: NodeJS.ProcessEnv = process.env): boolean {
  const forced = env.HUAJU4K_INT8_EXACT;
  if (forced === '1' || forced === '0') return forced === '1';
  if (info.arch === 'arm64') {
    if (info.platform !== 'linux') return true;
    return info.flags.some((f) => ARM_INT8_DOT.includes(f));
  }
  if (info.arch === 'x64') return info.flags.some((f) => X86_INT8_DOT.includes(f));
  return false;
}

/** Whether `--precision auto` runs this model's int8 variant here: models.json marks it, and this CPU qualifies. */
export function autoRunsInt8(modelRef: string): boolean {
  return autoPicksInt8(modelRef) && cpuInt8Exact();
}
