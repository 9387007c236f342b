import assert from 'node:assert/strict';
import {
  BUDGET_HEADROOM,
  DEFAULT_VRAM_BUDGET_GIB,
  effectiveBudget,
  estimateBytes,
  GIB,
  parseVramBudget,
  tileForBudget,
} from '../../../src/engine/device/budget';

const MIB = 2 ** 20;

describe('gpu/budget: --vram-budget', () => {
  it('is in GiB, 6 by default, and rejects nonsense', () => {
    assert.equal(DEFAULT_VRAM_BUDGET_GIB, 6);
    assert.equal(parseVramBudget(undefined), 6 * GIB);
    assert.equal(parseVramBudget('1.5'), 1.5 * GIB);
    // The size syntax of --disk-budget / --disk-reserve works here too.
    assert.equal(parseVramBudget('1G'), GIB);
    assert.equal(parseVramBudget('1.5GiB'), 1.5 * GIB);
    assert.equal(parseVramBudget('512M'), 512 * MIB);
    for (const bad of ['0', '-1', 'abc', '', '2000', '0.1', '100M', '2T']) {
      assert.throws(() => parseVramBudget(bad), /--vram-budget must be a size from 256M to 1024G/, bad);
    }
  });

  it('is capped by what the card has free', () => {
    assert.equal(effectiveBudget(6 * GIB), 6 * GIB);
    assert.equal(effectiveBudget(6 * GIB, { usedBytes: 1 * GIB, totalBytes: 24 * GIB }), 6 * GIB);
    assert.equal(effectiveBudget(6 * GIB, { usedBytes: 2 * GIB, totalBytes: 6 * GIB }), 4 * GIB);
    assert.equal(effectiveBudget(6 * GIB, { usedBytes: 8 * GIB, totalBytes: 8 * GIB }), 0);
    assert.equal(effectiveBudget(6 * GIB, { usedBytes: 0, totalBytes: 0 }), 6 * GIB, '[N/A] memory: the cap');
  });
});

describe('gpu/budget: tile from budget', () => {
  const memory = { fixedBytes: 100 * MIB, bytesPerPixel: 4096 };

  it('works a 1080p frame into a 1 GiB budget by hand: tile 416', () => {
    // usable = 0.85 GiB = 912,680,550 B; room = (usable − 100 MiB) / 4096 = 197,222 px → √ = 444 → −2·12 pad = 420
    // → multiple of 16: 416. Check: (416+24)² · 4096 + 100 MiB = 897,843,200 ≤ usable; 432 would be 956,563,456.
    const c = tileForBudget({ width: 1920, height: 1080, pad: 12, budgetBytes: GIB, memory });
    assert.deepEqual(c, { tile: 416, estimateBytes: 897_843_200, fits: true });
    assert.ok(estimateBytes(memory, (432 + 24) ** 2) > GIB * BUDGET_HEADROOM, 'the next size up does not fit');
  });

  it('runs the whole frame (tile 0) when it fits', () => {
    const c = tileForBudget({ width: 64, height: 36, pad: 12, budgetBytes: GIB, memory });
    assert.equal(c.tile, 0);
    assert.equal(c.estimateBytes, 100 * MIB + 64 * 36 * 4096);
  });

  it('never goes above the maximum tile, and estimates edge strips by their clipped size', () => {
    assert.equal(tileForBudget({ width: 4000, height: 3000, pad: 12, budgetBytes: 24 * GIB, memory }).tile, 1024);
    // A strip: the estimate counts the padded tile clipped to the frame (328 × 100 px, not 328²).
    const c = tileForBudget({
      width: 4000,
      height: 100,
      pad: 12,
      budgetBytes: 0.5 * GIB,
      memory: { fixedBytes: 0, bytesPerPixel: 4096 },
    });
    assert.deepEqual(c, { tile: 304, estimateBytes: 328 * 100 * 4096, fits: true });
  });

  it('a budget below the minimum tile: the minimum, flagged as not fitting', () => {
    const c = tileForBudget({ width: 1920, height: 1080, pad: 12, budgetBytes: 64 * MIB, memory });
    assert.equal(c.tile, 64);
    assert.equal(c.fits, false);
    assert.equal(c.estimateBytes, 100 * MIB + (64 + 24) ** 2 * 4096);
  });

  it('more budget never gives a smaller tile (monotone)', () => {
    let last = 0;
    for (let gib = 0.25; gib <= 8; gib += 0.25) {
      const t = tileForBudget({ width: 3840, height: 2160, pad: 12, budgetBytes: gib * GIB, memory }).tile;
      assert.ok(t >= last, `${gib} GiB → ${t} < ${last}`);
      last = t;
    }
  });
});
