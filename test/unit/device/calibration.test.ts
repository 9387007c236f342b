import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tileForBudget } from '../../../src/engine/device/budget';
import {
  type CalibrationResult,
  calibrate,
  minBytesPerPixel,
  NvidiaProcessProbe,
} from '../../../src/engine/device/calibration';
import {
  type CalibrationKey,
  cacheDir,
  cachedCalibration,
  readCalibration,
} from '../../../src/engine/device/calibration-cache';
import { openModel } from '../../../src/engine/device/open-model';
import { ROOT } from '../engine/helpers';

const MODEL = 'realesr-animevideov3-x4';

describe('gpu/calibration: measured memory per pixel (real model, CPU)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'huaju4k-calib-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fits fixed + perPixel·pixels through real peaks that grow with the tile', function () {
    if (process.platform !== 'linux') this.skip();
    // In a fresh process, as an engine calibrates: in this long-lived test process the heap freed by earlier tests
    // can hold a run's peak without the resident size growing, and the peaks then say nothing.
    const src = (f: string) => JSON.stringify(join(ROOT, 'src/engine', f));
    const script = `
      const ort = require('onnxruntime-node');
      const { calibrate, ProcessMemoryProbe } = require(${src('device/calibration.ts')});
      const { loadModel } = require(${src('model/loader.ts')});
      (async () => {
        const model = await loadModel(${JSON.stringify(MODEL)}, { intraOpNumThreads: 1 });
        const run = async (side) => {
          const x = new ort.Tensor('uint8', new Uint8Array(3 * side * side).fill(128), [1, side, side, 3]);
          const out = await model.session.run({ [model.inputName]: x });
          out[model.outputName].dispose();
        };
        const r = await calibrate(run, new ProcessMemoryProbe(), { scale: model.scale, sides: [64, 128] });
        await model.session.release();
        console.log(JSON.stringify(r));
      })();`;
    const child = spawnSync(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_OPTIONS: `--import=${pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href}`,
      },
      encoding: 'utf8',
      timeout: 50_000,
    });
    assert.equal(child.status, 0, child.stderr);
    const r = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? 'null') as CalibrationResult | null;
    assert.ok(r);
    assert.equal(r.probe, 'process-rss');
    assert.deepEqual(r.sides, [64, 128]);
    assert.ok(r.peakBytes[1] > r.peakBytes[0], `peaks ${r.peakBytes} grow with the tile`);
    // A ×4 float32 model holds at least its input and output; a 64-channel compact net holds a few activations.
    assert.ok(r.bytesPerPixel >= minBytesPerPixel(4), `${r.bytesPerPixel} B/px`);
    assert.ok(r.bytesPerPixel < 64 * 1024, `${r.bytesPerPixel} B/px is implausibly large`);
    assert.ok(r.fixedBytes >= 0);
    // The fitted line covers every measurement (it is used as an upper bound).
    r.sides.forEach((side, i) => {
      assert.ok(r.fixedBytes + r.bytesPerPixel * side ** 2 >= r.peakBytes[i] - 1);
    });
  });

  it('on NVIDIA without per-process accounting (containers) it measures the device: 2048 B/px + 8 MiB by hand', async () => {
    // memory.used: 1000 MiB at begin, 1040 after the 128 px run, 1136 after 256 px →
    // slope = 96 MiB / (256² − 128²) = 2048 B/px; fixed = max(40 MiB − 32 MiB, 136 MiB − 128 MiB) = 8 MiB.
    const saved = { ...process.env };
    Object.assign(process.env, { FAKE_SMI_STATE: join(dir, 'smi-state'), FAKE_SMI_STEPS: '1000 1040 1136' });
    try {
      const probe = new NvidiaProcessProbe(join(__dirname, 'fixtures', 'fake-nvidia-smi-growing.sh'));
      const r = await calibrate(async () => {}, probe, { scale: 4, sides: [128, 256] });
      assert.deepEqual(r, {
        fixedBytes: 8 * 2 ** 20,
        bytesPerPixel: 2048,
        sides: [128, 256],
        peakBytes: [40 * 2 ** 20, 136 * 2 ** 20],
        probe: 'nvidia-device',
      });
    } finally {
      process.env.FAKE_SMI_STATE = saved.FAKE_SMI_STATE;
      process.env.FAKE_SMI_STEPS = saved.FAKE_SMI_STEPS;
      if (saved.FAKE_SMI_STATE === undefined) delete process.env.FAKE_SMI_STATE;
      if (saved.FAKE_SMI_STEPS === undefined) delete process.env.FAKE_SMI_STEPS;
    }
  });

  it('caches per model+provider+device+ORT version and survives a damaged file', async () => {
    const file = join(dir, 'calibration.json');
    const key: CalibrationKey = {
      modelSha256: 'ab'.repeat(32),
      provider: 'cuda',
      device: 'NVIDIA A100',
      ortVersion: '1.30.0',
    };
    let measured = 0;
    const measure = async () => {
      measured++;
      return { fixedBytes: 1000, bytesPerPixel: 2000 + measured, sides: [128, 256], peakBytes: [1, 2], probe: 'test' };
    };
    const a = await cachedCalibration(key, measure, file);
    const b = await cachedCalibration(key, measure, file);
    assert.equal(a?.cached, false);
    assert.equal(b?.cached, true);
    assert.equal(b?.result.bytesPerPixel, 2001);
    assert.equal(measured, 1);
    const other = await cachedCalibration({ ...key, device: 'NVIDIA GeForce RTX 4090' }, measure, file);
    assert.equal(other?.cached, false);
    assert.equal(readCalibration(key, file)?.bytesPerPixel, 2001, 'entries are kept side by side');
    writeFileSync(file, '{"version":1,"entr');
    assert.equal(readCalibration(key, file), undefined);
    assert.equal((await cachedCalibration(key, measure, file))?.cached, false);
  });

  it('lives under $HUAJU4K_CACHE, else the platform cache folder', () => {
    assert.equal(cacheDir({ HUAJU4K_CACHE: '/x/c' }, 'linux'), '/x/c');
    assert.equal(cacheDir({ XDG_CACHE_HOME: '/home/u/.xdg' }, 'linux'), '/home/u/.xdg/huaju4k');
    assert.equal(
      cacheDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32'),
      join('C:\\Users\\u\\AppData\\Local', 'huaju4k', 'cache'),
    );
  });

  it('--tile auto: calibrates on the first open, reuses the cache on the next, and picks the budget tile', async () => {
    const file = join(dir, 'open.json');
    const opts = {
      modelRef: MODEL,
      ep: 'cpu' as const,
      vramBudgetBytes: 2 ** 30,
      tile: 'auto' as const,
      frame: { width: 1920, height: 1080 },
      pad: 12,
      intraOpNumThreads: 1,
      calibrationFile: file,
    };
    const first = await openModel(opts);
    await first.model.session.release();
    const second = await openModel(opts);
    await second.model.session.release();
    assert.equal(first.provider, 'cpu');
    assert.equal(first.plan?.source, process.platform === 'linux' ? 'calibrated' : first.plan?.source);
    assert.equal(second.plan?.source, 'cached');
    assert.deepEqual(second.plan?.memory.bytesPerPixel, first.plan?.memory.bytesPerPixel);
    for (const o of [first, second]) {
      assert.ok(o.plan);
      const expect = tileForBudget({ ...opts.frame, pad: 12, budgetBytes: o.plan.budgetBytes, memory: o.plan.memory });
      assert.equal(o.tile, expect.tile);
    }
  });
});
