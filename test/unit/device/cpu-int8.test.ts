import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cpuInfo, cpuInt8Exact } from '../../../src/engine/device/cpu-int8';

/** Real /proc/cpuinfo flag lines (abridged to the parts that matter and some around them). */
const EPYC_AVX2 =
  'fpu vme de pse tsc msr pae mce cx8 apic sse sse2 ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand avx2 bmi2 sha_ni';
const ICE_LAKE = `${EPYC_AVX2} avx512f avx512dq avx512cd avx512bw avx512vl avx512_vbmi avx512_vnni avx512_bitalg`;
const SKYLAKE_X = `${EPYC_AVX2} avx512f avx512dq avx512cd avx512bw avx512vl`;
const ALDER_LAKE = `${EPYC_AVX2} avx_vnni`;
const SAPPHIRE_RAPIDS = `${SKYLAKE_X} amx_bf16 amx_tile amx_int8`;
const GRAVITON2 =
  'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs';
const CORTEX_A72 = 'fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid';

const linux = (arch: string, flags: string) => ({ platform: 'linux' as const, arch, flags: flags.split(' ') });
const none = {};

describe('engine/device: does this CPU run int8 exactly (VNNI, AMX, ARM dot products)', () => {
  it('x86: only with VNNI or AMX — AVX2 and AVX-512 without VNNI saturate in onnxruntime’s u8s8 kernels', () => {
    assert.equal(cpuInt8Exact(linux('x64', EPYC_AVX2), none), false);
    assert.equal(cpuInt8Exact(linux('x64', SKYLAKE_X), none), false);
    assert.equal(cpuInt8Exact(linux('x64', ICE_LAKE), none), true);
    assert.equal(cpuInt8Exact(linux('x64', ALDER_LAKE), none), true);
    assert.equal(cpuInt8Exact(linux('x64', SAPPHIRE_RAPIDS), none), true);
  });

  it('ARM64: with dot products (Apple silicon, Graviton 2, Windows on ARM), not a Cortex-A72', () => {
    assert.equal(cpuInt8Exact(linux('arm64', GRAVITON2), none), true);
    assert.equal(cpuInt8Exact(linux('arm64', CORTEX_A72), none), false);
    assert.equal(cpuInt8Exact({ platform: 'darwin', arch: 'arm64', flags: [] }, none), true);
    assert.equal(cpuInt8Exact({ platform: 'win32', arch: 'arm64', flags: [] }, none), true);
  });

  it('flags unknown (Windows and macOS on x64): no; HUAJU4K_INT8_EXACT says otherwise either way', () => {
    assert.equal(cpuInt8Exact({ platform: 'win32', arch: 'x64', flags: [] }, none), false);
    assert.equal(cpuInt8Exact({ platform: 'darwin', arch: 'x64', flags: [] }, none), false);
    assert.equal(cpuInt8Exact({ platform: 'win32', arch: 'x64', flags: [] }, { HUAJU4K_INT8_EXACT: '1' }), true);
    assert.equal(cpuInt8Exact(linux('x64', ICE_LAKE), { HUAJU4K_INT8_EXACT: '0' }), false);
  });

  it('reads this machine’s flags from /proc/cpuinfo', function () {
    if (process.platform !== 'linux') this.skip();
    const info = cpuInfo();
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    assert.ok(info.flags.length > 5, 'flags read');
    for (const f of info.flags.slice(0, 5)) assert.ok(text.includes(` ${f}`), f);
    const vnni = /\b(avx512_vnni|avx_vnni|amx_int8|asimddp|i8mm)\b/.test(text);
    assert.equal(cpuInt8Exact(info, none), vnni);
  });
});
