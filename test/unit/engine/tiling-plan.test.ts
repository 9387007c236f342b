import assert from 'node:assert/strict';
import { parseTileOption } from '../../../src/engine/tile-size';
import { planTiles } from '../../../src/engine/tiler';

describe('engine: tiling plan', () => {
  it('covers every pixel exactly once with padding clipped to the frame', () => {
    for (const [w, h, t] of [
      [64, 36, 16],
      [63, 35, 32],
      [10, 10, 0],
      [100, 7, 33],
    ]) {
      const seen = new Uint8Array(w * h);
      for (const r of planTiles(w, h, t, 10)) {
        assert.ok(r.px >= 0 && r.py >= 0 && r.px + r.pw <= w && r.py + r.ph <= h);
        assert.ok(r.x - r.px === Math.min(10, r.x) && r.y - r.py === Math.min(10, r.y));
        for (let y = r.y; y < r.y + r.h; y++) for (let x = r.x; x < r.x + r.w; x++) seen[y * w + x]++;
      }
      assert.ok(
        seen.every((v) => v === 1),
        `${w}x${h} tile ${t}`,
      );
    }
  });
  it('--tile: auto, 0 (whole frame) or an integer ≥ 32', () => {
    assert.equal(parseTileOption(undefined), 'auto');
    assert.equal(parseTileOption('256'), 256);
    assert.throws(() => parseTileOption('7'), RangeError);
  });
});
