import assert from 'node:assert/strict';
import { PEAK_FACTOR, type TileBox, tileChange, tileWindowChange } from '../../../src/engine/temporal/tile-change';
import { clipPath, decodeRgbFrames } from '../../../tools/models/calibrate';

/**
 * tileChange() and tileWindowChange() against their definitions written out plainly (every 2×2 patch, every 4×4
 * window stepping by 2, clipped at the tile's edge): the same numbers, to the bit, on real footage and on noise,
 * for tiles of every parity, at the frame's edges, shifted.
 */

/** The mean |Δ| over the tile and the largest 2×2-patch mean |Δ| / PEAK_FACTOR (tileChange(): the larger). */
function changeByDefinition(cur: Uint8Array, ref: Uint8Array, width: number, box: TileBox, dx: number, dy: number) {
  let total = 0;
  let peak = 0;
  for (let y = box.y; y < box.y + box.h; y += 2)
    for (let x = box.x; x < box.x + box.w; x += 2) {
      let patch = 0;
      let count = 0;
      for (let yy = y; yy <= Math.min(y + 1, box.y + box.h - 1); yy++)
        for (let xx = x; xx <= Math.min(x + 1, box.x + box.w - 1); xx++)
          for (let c = 0; c < 3; c++) {
            patch += Math.abs(cur[(yy * width + xx) * 3 + c] - ref[((yy + dy) * width + xx + dx) * 3 + c]);
            count++;
          }
      total += patch;
      peak = Math.max(peak, patch / count);
    }
  return { mean: total / (box.w * box.h * 3), peak: peak / PEAK_FACTOR };
}

/** The largest |mean signed Δ| of one channel over 4×4 windows stepping by 2, clipped to the tile. */
function windowChangeByDefinition(
  cur: Uint8Array,
  ref: Uint8Array,
  width: number,
  box: TileBox,
  dx: number,
  dy: number,
) {
  let peak = 0;
  const starts = (from: number, size: number) => {
    const s: number[] = [];
    for (let o = 0; o === 0 || o + 2 < size; o += 2) s.push(from + o);
    return s;
  };
  for (const y0 of starts(box.y, box.h))
    for (const x0 of starts(box.x, box.w))
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        let n = 0;
        for (let y = y0; y < Math.min(y0 + 4, box.y + box.h); y++)
          for (let x = x0; x < Math.min(x0 + 4, box.x + box.w); x++) {
            sum += cur[(y * width + x) * 3 + c] - ref[((y + dy) * width + x + dx) * 3 + c];
            n++;
          }
        peak = Math.max(peak, Math.abs(sum) / n);
      }
  return peak;
}

/** Frames of the same size: real footage (two frames of cockatoo.mp4) and noise. */
function framePairs(w: number, h: number): [string, Uint8Array, Uint8Array][] {
  const [a, b] = decodeRgbFrames(clipPath('cockatoo.mp4'), `select=gte(n\\,10),scale=${w}:${h}:flags=area`, w, h, 2);
  let seed = 7;
  const noise = () =>
    Uint8Array.from({ length: w * h * 3 }, () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    });
  // The real frame again with grain of ±1 level and a few small spots changed by 20–60 levels: there the largest
  // patch, not the mean, decides.
  const spotted = a.map((v, i) => Math.min(255, Math.max(0, v + ((i * 7919) % 3) - 1)));
  for (let s = 0; s < 40; s++) {
    const x = (s * 37) % (w - 2);
    const y = (s * 23) % (h - 2);
    for (let c = 0; c < 3; c++) spotted[(y * w + x) * 3 + c] = Math.min(255, a[(y * w + x) * 3 + c] + 20 + s);
  }
  return [
    ['real footage', a, b],
    ['noise', noise(), noise()],
    ['real footage with small local changes', a, spotted],
  ];
}

describe('temporal: tile change measures (tile-change.ts)', () => {
  const w = 61;
  const h = 45;
  for (const [name, cur, ref] of framePairs(w, h))
    it(`tileChange() and tileWindowChange() follow their definitions on ${name}`, () => {
      let boxes = 0;
      let peaks = 0;
      for (const [bw, bh] of [
        [1, 1],
        [1, 6],
        [5, 1],
        [2, 2],
        [3, 5],
        [8, 8],
        [16, 16],
        [17, 13],
        [32, 31],
        [w, h],
      ])
        for (const [dx, dy] of [
          [0, 0],
          [1, -2],
          [-3, 1],
        ])
          for (const [x, y] of [
            [3, 2],
            [w - bw - Math.max(0, dx), h - bh - Math.max(0, dy)],
            [Math.max(0, -dx), Math.max(0, -dy)],
          ]) {
            const box = { x, y, w: bw, h: bh };
            if (x + dx < 0 || y + dy < 0 || x + bw + dx > w || y + bh + dy > h || x < 0 || y < 0) continue;
            const what = `${bw}×${bh} at ${x},${y} shifted ${dx},${dy}`;
            const change = changeByDefinition(cur, ref, w, box, dx, dy);
            assert.equal(tileChange(cur, ref, w, box, dx, dy), Math.max(change.mean, change.peak), what);
            if (change.peak > change.mean) peaks++;
            const windows = windowChangeByDefinition(cur, ref, w, box, dx, dy);
            assert.equal(tileWindowChange(cur, ref, w, box, dx, dy), windows, what);
            boxes++;
          }
      assert.ok(boxes > 60, `${boxes} tiles compared`);
      if (name.includes('small')) assert.ok(peaks > 10, `${peaks} tiles where a patch decides`);
    });
});
