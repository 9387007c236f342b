import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  deviceUsedBytes,
  GPU_QUERY_ARGS,
  parseComputeApps,
  parseGpuQuery,
  processGpuBytes,
  queryGpuState,
} from '../../../src/engine/device/nvidia-smi';
import { VramMonitor } from '../../../src/engine/device/vram-monitor';

const FIXTURES = join(__dirname, 'fixtures');
const FAKE = join(FIXTURES, 'fake-nvidia-smi.sh');
const MIB = 2 ** 20;
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

/** Points the fake nvidia-smi at fixtures for the duration of `fn`. */
async function withFake<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, { FAKE_SMI_DIR: FIXTURES }, vars);
  try {
    return await fn();
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

const realSmi = (() => {
  try {
    execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('gpu/nvidia-smi: parser (captured outputs)', () => {
  it('queries exactly the columns the parser reads', () => {
    assert.deepEqual(GPU_QUERY_ARGS, [
      '--query-gpu=index,name,memory.used,memory.total,utilization.gpu',
      '--format=csv,noheader,nounits',
    ]);
  });

  it('reads one GPU in MiB', () => {
    assert.deepEqual(parseGpuQuery(fixture('smi-single.csv')), [
      {
        index: 0,
        name: 'NVIDIA GeForce RTX 3060 Laptop GPU',
        usedBytes: 412 * MIB,
        totalBytes: 6144 * MIB,
        utilPercent: 3,
      },
    ]);
  });

  it('reads every GPU of a multi-GPU machine, in index order', () => {
    const gpus = parseGpuQuery(fixture('smi-multi.csv'));
    assert.deepEqual(
      gpus.map((g) => [g.index, g.usedBytes / MIB, g.totalBytes / MIB, g.utilPercent]),
      [
        [0, 71234, 81920, 98],
        [1, 4, 81920, 0],
        [2, 40321, 81920, 57],
        [3, 4, 81920, 0],
      ],
    );
    assert.ok(gpus.every((g) => g.name === 'NVIDIA A100-SXM4-80GB'));
  });

  it('treats [N/A] and [Not Supported] as absent: no utilisation, 0 bytes, the card still listed', () => {
    const gpus = parseGpuQuery(fixture('smi-na.csv'));
    assert.equal(gpus.length, 3);
    assert.deepEqual(gpus[0], {
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      usedBytes: 19 * MIB,
      totalBytes: 81559 * MIB,
    });
    assert.equal(gpus[1].utilPercent, 12);
    assert.deepEqual(gpus[2], { index: 2, name: 'NVIDIA GeForce GT 710', usedBytes: 0, totalBytes: 0 });
  });

  it('finds no GPU in the driver-failure message, and tolerates CRLF, blank lines and commas in names', () => {
    assert.deepEqual(parseGpuQuery(fixture('smi-no-driver.txt')), []);
    assert.deepEqual(parseGpuQuery('\r\n0, Quadro RTX 4000, with Max-Q, 100, 8192, 1\r\n\r\n'), [
      { index: 0, name: 'Quadro RTX 4000, with Max-Q', usedBytes: 100 * MIB, totalBytes: 8192 * MIB, utilPercent: 1 },
    ]);
  });

  it('sums per-process GPU memory over GPUs and skips [N/A]', () => {
    const apps = parseComputeApps(fixture('smi-apps.csv'));
    assert.deepEqual([...apps], [[21544, 7168 * MIB]]);
  });
});

describe('gpu/nvidia-smi: querying', () => {
  it('without nvidia-smi (this machine): available:false with the reason', async function () {
    if (realSmi) this.skip();
    const s = await queryGpuState(6 * 2 ** 30);
    assert.deepEqual(s, { available: false, reason: 'nvidia-smi not found: no NVIDIA driver on this machine' });
    assert.equal(await processGpuBytes(), undefined);
  });

  it('with nvidia-smi output: available:true with the GPUs and the budget', async () => {
    const s = await withFake({ FAKE_SMI_GPU: 'smi-multi.csv' }, () => queryGpuState(6 * 2 ** 30, FAKE));
    assert.equal(s.available, true);
    if (s.available) {
      assert.equal(s.budgetBytes, 6 * 2 ** 30);
      assert.equal(s.gpus.length, 4);
    }
  });

  it('a failing driver: available:false with nvidia-smi’s own first line', async () => {
    const s = await withFake({ FAKE_SMI_GPU: 'smi-no-driver.txt', FAKE_SMI_EXIT: '9' }, () => queryGpuState(1, FAKE));
    assert.equal(s.available, false);
    if (!s.available) assert.match(s.reason, /failed: NVIDIA-SMI has failed because it couldn't communicate/);
  });

  it('reads this process’s GPU memory from the compute-apps query', async () => {
    const bytes = await withFake({ FAKE_SMI_APPS: 'smi-apps.csv' }, () => processGpuBytes(21544, FAKE));
    assert.equal(bytes, 7168 * MIB);
    // Not listed (e.g. a container, where nvidia-smi shows host pids): unknown, not zero.
    const none = await withFake({ FAKE_SMI_APPS: 'smi-apps.csv' }, () => processGpuBytes(1, FAKE));
    assert.equal(none, undefined);
    const dev = await withFake({ FAKE_SMI_GPU: 'smi-multi.csv' }, () => deviceUsedBytes(2, FAKE));
    assert.equal(dev, 40321 * MIB);
  });
});

describe('gpu/vram-monitor', () => {
  it('keeps the latest reading and the peak per GPU; stops cleanly', async () => {
    await withFake({ FAKE_SMI_GPU: 'smi-multi.csv' }, async () => {
      const m = new VramMonitor({ budgetBytes: 2 ** 30, intervalMs: 20, bin: FAKE });
      const first = await m.start();
      assert.equal(first.available, true);
      await new Promise((r) => setTimeout(r, 120));
      await m.stop();
      assert.equal(m.state().available, true);
      assert.equal(m.peakUsedBytes().get(0), 71234 * MIB);
      assert.equal(m.peakUsedBytes().get(2), 40321 * MIB);
    });
  });

  it('no GPU: says why and does not keep polling', async () => {
    const m = new VramMonitor({ budgetBytes: 2 ** 30, bin: '/nonexistent/nvidia-smi' });
    const s = await m.start();
    assert.deepEqual(s, {
      available: false,
      reason: '/nonexistent/nvidia-smi not found: no NVIDIA driver on this machine',
    });
    await m.stop();
  });
});
