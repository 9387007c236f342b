import assert from 'node:assert/strict';
import {
  isSceneCut,
  lumaOf,
  smoothedAbsDiff,
  smoothedAbsDiffIn,
  staticWeights,
} from '../../../src/engine/temporal/change-mask';
import { rng, texture, withNoise, withSquare } from './frames';

const W = 64;
const H = 36;
const luma = (f: Uint8Array) => lumaOf(f, W * H);
const T = { staticBelow: 2, movingAbove: 6 };

describe('temporal: change mask', () => {
  it('luma follows BT.709 and rejects a frame of the wrong size', () => {
    const f = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
    assert.deepEqual([...lumaOf(f, 4)], [54, 182, 19, 255]);
    assert.throws(() => lumaOf(f, 5), /expected 15/);
  });

  it('3×3 smoothing spreads a one-pixel difference to its neighbours at a ninth', () => {
    const a = new Uint8Array(25);
    const b = new Uint8Array(25);
    b[12] = 90;
    const d = smoothedAbsDiff(a, b, 5, 5);
    assert.equal(d[12], 10);
    assert.equal(d[6], 10);
    assert.equal(d[0], 0);
  });

  it('smoothing inside a rectangle gives exactly the whole-frame values there and 0 elsewhere', () => {
    const a = luma(texture(W, H, 3));
    const b = luma(withNoise(texture(W, H, 3), 40, 9));
    const full = smoothedAbsDiff(a, b, W, H);
    const r = rng(5);
    for (let run = 0; run < 20; run++) {
      // Rectangles touching the frame's borders included (the window is clipped there, not at the rectangle).
      const x = run % 4 === 0 ? 0 : Math.floor(r() * W);
      const y = run % 5 === 0 ? 0 : Math.floor(r() * H);
      const rect = { x, y, w: 1 + Math.floor(r() * (W - x)), h: 1 + Math.floor(r() * (H - y)) };
      const part = smoothedAbsDiffIn(a, b, W, H, rect);
      for (let py = 0; py < H; py++) {
        for (let px = 0; px < W; px++) {
          const inside = px >= x && px < x + rect.w && py >= y && py < y + rect.h;
          const i = py * W + px;
          assert.equal(part[i], inside ? full[i] : 0, `run ${run} ${JSON.stringify(rect)} at ${px},${py}`);
        }
      }
    }
  });

  it('smoothing equals the plain 3×3 mean of |a − b| (float32), also on frames 1 or 2 pixels wide or high', () => {
    // The definition, pixel by pixel: the row means of the clipped window, then the mean of those down the column.
    const plain = (a: Uint8Array, b: Uint8Array, w: number, h: number) => {
      const rows = new Float32Array(w * h);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          let s = 0;
          for (let k = Math.max(0, x - 1); k <= Math.min(w - 1, x + 1); k++) s += Math.abs(a[y * w + k] - b[y * w + k]);
          rows[y * w + x] = s / (Math.min(w - 1, x + 1) - Math.max(0, x - 1) + 1);
        }
      const out = new Float32Array(w * h);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          let s = 0;
          for (let k = Math.max(0, y - 1); k <= Math.min(h - 1, y + 1); k++) s += rows[k * w + x];
          out[y * w + x] = s / (Math.min(h - 1, y + 1) - Math.max(0, y - 1) + 1);
        }
      return out;
    };
    const r = rng(11);
    for (const [w, h] of [
      [1, 1],
      [1, 7],
      [7, 1],
      [2, 2],
      [2, 5],
      [5, 2],
      [3, 3],
      [W, H],
    ]) {
      const a = Uint8Array.from({ length: w * h }, () => Math.floor(r() * 256));
      const b = Uint8Array.from({ length: w * h }, () => Math.floor(r() * 256));
      assert.deepEqual(smoothedAbsDiff(a, b, w, h), plain(a, b, w, h), `${w}×${h}`);
    }
  });

  it('compression-like noise (±3 levels per byte) leaves the whole frame static', () => {
    const base = texture(W, H, 7);
    const s = staticWeights(luma(withNoise(base, 3, 1)), luma(withNoise(base, 3, 2)), W, H, T);
    const min = s.reduce((m, v) => Math.min(m, v), 1);
    assert.ok(min > 0.6, `least static weight ${min}`);
    const mean = s.reduce((a, v) => a + v, 0) / s.length;
    assert.ok(mean > 0.95, `mean static weight ${mean}`);
  });

  it('a moving square is marked moving where it was, where it is, one pixel around; far pixels stay static', () => {
    const base = texture(W, H, 3);
    const a = withSquare(base, W, { x: 10, y: 10, size: 6, rgb: [250, 250, 250] });
    const b = withSquare(base, W, { x: 14, y: 10, size: 6, rgb: [250, 250, 250] });
    const s = staticWeights(luma(b), luma(a), W, H, T);
    const at = (x: number, y: number) => s[y * W + x];
    for (const [x, y] of [
      [10, 10],
      [12, 13],
      [19, 15],
      [9, 12],
      [20, 12],
    ])
      assert.equal(at(x, y), 0, `(${x},${y}) should be moving`);
    for (const [x, y] of [
      [40, 20],
      [0, 0],
      [63, 35],
      [14, 30],
    ])
      assert.equal(at(x, y), 1, `(${x},${y}) should be static`);
  });

  it('scene cut: a different picture is a cut; noise, a moving object or a small brightness change are not', () => {
    const a = texture(W, H, 1);
    const other = Buffer.from(a.map((v) => 255 - v));
    assert.equal(isSceneCut(luma(other), luma(a)), true);
    const dark = Buffer.alloc(W * H * 3, 20);
    const bright = Buffer.alloc(W * H * 3, 200);
    assert.equal(isSceneCut(luma(bright), luma(dark)), true);
    assert.equal(isSceneCut(luma(withNoise(a, 4, 9)), luma(a)), false);
    assert.equal(isSceneCut(luma(withSquare(a, W, { x: 5, y: 5, size: 12, rgb: [0, 0, 0] })), luma(a)), false);
    const lift = Buffer.from(a.map((v) => Math.min(255, v + 6)));
    assert.equal(isSceneCut(luma(lift), luma(a)), false);
    // A cut between two shots of similar mean brightness but different content (histogram moved wholesale).
    const flat = Buffer.alloc(W * H * 3, 128);
    const stripes = Buffer.alloc(W * H * 3);
    for (let i = 0; i < stripes.length; i += 3) stripes.fill((i / 3) % 2 ? 100 : 156, i, i + 3);
    assert.equal(isSceneCut(luma(stripes), luma(flat)), true);
  });
});
