import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnhanceArgs } from '../../../src/engine/args';
import { EngineError } from '../../../src/engine/errors';
import { GIB } from '../../../src/engine/gpu/budget';
import type { SampleEvent, StartEvent, WarningEvent } from '../../../src/protocol/engine-events';
import { basicClip, freshDir, runCli } from '../engine/helpers';

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
