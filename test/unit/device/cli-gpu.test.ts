import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnhanceArgs } from '../../../src/engine/args';
import { GIB } from '../../../src/engine/device/budget';
import { EngineError } from '../../../src/engine/errors';
import type { DoneEvent, SampleEvent, StartEvent, WarningEvent } from '../../../src/protocol/engine-events';
import { basicClip, collect, decodeRgb, FAST_MODEL, freshDir, psnr, runCli, startCli } from '../engine/helpers';

const FIXTURES = join(__dirname, 'fixtures');

describe('gpu: CLI flags', () => {
  it('--ep and --vram-budget: defaults auto and 6 GiB; bad values are usage errors (exit 2)', () => {
    const a = parseEnhanceArgs(['in.mp4']);
    assert.equal(a.ep, 'auto');
    assert.equal(a.vramBudgetBytes, 6 * GIB);
    const b = parseEnhanceArgs(['in.mp4', '--ep', 'webgpu', '--vram-budget', '2.5']);
    assert.equal(b.ep, 'webgpu');
    assert.equal(b.vramBudgetBytes, 2.5 * GIB);
    for (const bad of [
      ['a', '--ep', 'metal'],
      ['a', '--vram-budget', '0'],
      ['a', '--vram-budget', 'lots'],
    ]) {
      assert.throws(
        () => parseEnhanceArgs(bad),
        (e: unknown) => e instanceof EngineError && e.code === 2 && /--ep|--vram-budget/.test(e.message),
        bad.join(' '),
      );
    }
  });

  it('--precision: default auto; fp16/fp32/int8 kept; anything else is a usage error (exit 2)', () => {
    assert.equal(parseEnhanceArgs(['in.mp4']).precision, 'auto');
    assert.equal(parseEnhanceArgs(['in.mp4', '--precision', 'fp16']).precision, 'fp16');
    assert.equal(parseEnhanceArgs(['in.mp4', '--precision', 'int8']).precision, 'int8');
    assert.throws(
      () => parseEnhanceArgs(['in.mp4', '--precision', 'int4']),
      (e: unknown) =>
        e instanceof EngineError && e.code === 2 && /--precision must be one of auto, fp16, fp32, int8/.test(e.message),
    );
  });
});

describe('gpu: --precision in real runs (CLI, real ffmpeg + ORT)', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => {
    dir = freshDir('huaju4k-precision-cli-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const common = ['--model', FAST_MODEL, '--ep', 'cpu', '--tile', '0', '--temporal', 'off', '--json'];

  it('fp16 and int8 are reported in start and done, and their videos match fp32 to within the encoder loss', async () => {
    const runs: Record<string, string> = {};
    for (const precision of ['fp32', 'fp16', 'int8']) {
      const out = join(dir, `${precision}.mp4`);
      const r = await runCli([
        'enhance',
        basicClip(),
        '-o',
        out,
        '--max-frames',
        '3',
        '--precision',
        precision,
        ...common,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.events.find((e): e is StartEvent => e.type === 'start')?.precision, precision);
      assert.equal(r.events.find((e): e is DoneEvent => e.type === 'done')?.report.precision, precision);
      runs[precision] = out;
    }
    const [a, b] = [decodeRgb(runs.fp32), decodeRgb(runs.fp16)];
    assert.equal(a.length, b.length);
    assert.ok(psnr(a, b) >= 40, `fp16 vs fp32: ${psnr(a, b).toFixed(1)} dB`);
    // testsrc2 is synthetic (saturated bars, hard edges): outside the real footage int8 was calibrated on, its
    // activations clip (31.7 dB measured; real frames ≥ 40 dB, test/unit/model/int8.test.ts). A broken graph is < 20.
    const c = decodeRgb(runs.int8);
    assert.ok(psnr(a, c) >= 30, `int8 vs fp32 after encoding: ${psnr(a, c).toFixed(1)} dB`);
  });

  it('a job started in fp16 resumes in fp16 under --precision auto (the checkpoint pins it)', async () => {
    const out = join(dir, 'pinned.mp4');
    // Long enough, and a small frame budget, that the job is still running when the first segment lands.
    const input = basicClip(400);
    const job = ['--max-frames', '60', '--segment-frames', '2', '--buffer-mb', '16', ...common];
    const first = startCli(['enhance', input, '-o', out, '--precision', 'fp16', ...job]);
    const cancelled = await collect(first, (e) => {
      if (e.type === 'segment') first.kill('SIGTERM');
    });
    assert.equal(cancelled.code, 5, cancelled.stderr);
    const r = await runCli(['enhance', input, '-o', out, '--resume', ...job]);
    assert.equal(r.code, 0, r.stderr);
    const start = r.events.find((e): e is StartEvent => e.type === 'start');
    assert.ok((start?.resumeFromFrame ?? 0) >= 2, 'resumed after the first segment');
    assert.equal(start?.precision, 'fp16', 'auto on the CPU would be fp32: the checkpoint kept fp16');
  });
});

describe('gpu: enhance runs (CLI, real ffmpeg + ORT)', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = freshDir('huaju4k-gpu-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const hasRealSmi = () => (process.env.PATH ?? '').split(':').some((p) => p && existsSync(join(p, 'nvidia-smi')));

  it('--ep auto --tile auto: provider in start, fallback warnings after it, samples say why there is no GPU', async function () {
    if (hasRealSmi()) this.skip();
    const out = join(dir, 'auto.mp4');
    const cache = join(dir, 'cache');
    const r = await runCli(
      ['enhance', basicClip(), '-o', out, '--max-frames', '4', '--ep', 'auto', '--tile', 'auto', '--json'],
      { HUAJU4K_CACHE: cache },
    );
    assert.equal(r.code, 0, r.stderr);
    const start = r.events.find((e): e is StartEvent => e.type === 'start');
    assert.ok(start);
    assert.ok(['cuda', 'webgpu', 'cpu'].includes(start.executionProvider));
    assert.equal(start.tile, 0, 'a 64x36 frame fits any budget whole');
    assert.equal(r.events[0].type, 'start');
    const fallbacks = r.events.filter((e): e is WarningEvent => e.type === 'warning' && e.code === 'ep-fallback');
    if (start.executionProvider === 'cpu') {
      assert.ok(fallbacks.length >= 1, 'auto passed over at least one GPU provider here, and said why');
      for (const w of fallbacks) assert.match(w.message, /not used: .+ To use (CUDA|WebGPU): /);
    }
    const samples = r.events.filter((e): e is SampleEvent => e.type === 'sample');
    assert.ok(samples.length >= 1);
    for (const s of samples) {
      assert.deepEqual(s.gpu, { available: false, reason: 'nvidia-smi not found: no NVIDIA driver on this machine' });
    }
    const calib = JSON.parse(readFileSync(join(cache, 'calibration.json'), 'utf8')) as { entries: object };
    assert.ok(
      Object.keys(calib.entries).some((k) => k.includes(`|${start.executionProvider}|`)),
      'calibration cached per model+provider+device',
    );
  });

  it('a first run without a GPU is quiet: stderr has only our lines, one info line about the provider', async function () {
    if (hasRealSmi()) this.skip();
    const out = join(dir, 'quiet.mp4');
    const r = await runCli(['enhance', basicClip(), '-o', out, '--max-frames', '2', '--model', FAST_MODEL]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.split(/[\r\n]+/).filter((l) => l.trim() !== '');
    const ours = /^(huaju4k: | {2}→ | {2}plan: |info: |warning: | {2}frame | {2}segment |done: | {2}\d+ frames in )/;
    for (const line of lines) assert.match(line, ours, `not an engine line:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /XDG_RUNTIME_DIR|Vulkan|dawn|onnxruntime_src|not used:/);
    const start = lines.find((l) => l.startsWith('  → ')) ?? '';
    const info = lines.filter((l) => l.startsWith('info: '));
    if (/ on cpu /.test(start)) {
      assert.equal(info.length, 1, r.stderr);
      assert.match(info[0], /^info: running on the CPU \(slow\): no GPU provider works here \(.*why: run with --json/);
    }
  });

  it('with nvidia-smi answering: samples carry every GPU and the budget', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(join(FIXTURES, 'fake-nvidia-smi.sh'), join(bin, 'nvidia-smi'));
    const out = join(dir, 'gpu.mp4');
    const r = await runCli(
      [
        'enhance',
        basicClip(),
        '-o',
        out,
        '--max-frames',
        '4',
        '--ep',
        'cpu',
        '--tile',
        '0',
        '--vram-budget',
        '2',
        '--json',
      ],
      {
        PATH: `${bin}:${process.env.PATH}`,
        FAKE_SMI_DIR: FIXTURES,
        FAKE_SMI_GPU: 'smi-multi.csv',
        FAKE_SMI_APPS: 'smi-apps.csv',
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const start = r.events.find((e): e is StartEvent => e.type === 'start');
    assert.equal(start?.executionProvider, 'cpu');
    assert.ok(
      !r.events.some((e) => e.type === 'warning' && e.code === 'ep-fallback'),
      'an explicit cpu has nothing to fall back from',
    );
    const samples = r.events.filter((e): e is SampleEvent => e.type === 'sample');
    assert.ok(samples.length >= 1);
    for (const s of samples) {
      assert.equal(s.gpu?.available, true);
      if (s.gpu?.available) {
        assert.equal(s.gpu.budgetBytes, 2 * GIB);
        assert.deepEqual(
          s.gpu.gpus.map((g) => [g.index, g.usedBytes / 2 ** 20]),
          [
            [0, 71234],
            [1, 4],
            [2, 40321],
            [3, 4],
          ],
        );
      }
    }
  });
});
