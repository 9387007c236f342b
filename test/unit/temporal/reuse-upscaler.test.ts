import assert from 'node:assert/strict';
import { groupChangedTiles } from '../../../src/engine/temporal/region-plan';
import { ReuseUpscaler } from '../../../src/engine/temporal/reuse-upscaler';
import { kthSmallest, roundedTileMedian, tileChange, tileWindowChange } from '../../../src/engine/temporal/tile-change';
import { ReplicateUpscaler, rng, texture, withNoise, withSquare } from './frames';

const W = 48;
const H = 28;

/** Naive tileChange: mean |Δ| over the tile, and the largest 2×2-patch mean |Δ| / 6. */
function naiveChange(a: Uint8Array, b: Uint8Array, x0: number, y0: number, w: number, h: number): number {
  let sum = 0;
  let peak = 0;
  for (let py = y0; py < y0 + h; py += 2) {
    for (let px = x0; px < x0 + w; px += 2) {
      let s = 0;
      let n = 0;
      for (let y = py; y < Math.min(py + 2, y0 + h); y++) {
        for (let x = px; x < Math.min(px + 2, x0 + w); x++) {
          for (let c = 0; c < 3; c++) {
            s += Math.abs(a[(y * W + x) * 3 + c] - b[(y * W + x) * 3 + c]);
            n++;
          }
        }
      }
      sum += s;
      peak = Math.max(peak, s / n);
    }
  }
  return Math.max(sum / (w * h * 3), peak / 6);
}

/**
 * tileWindowChange's definition: windows of 4×4 pixels stepping by 2 (clipped to the tile; one where it is at most
 * 2 pixels wide or high), the largest |mean signed Δ| of one channel, `a` read at the tile moved by (dx, dy).
 */
function naiveWindowChange(
  a: Uint8Array,
  b: Uint8Array,
  box: { x: number; y: number; w: number; h: number },
  dx: number,
  dy: number,
) {
  const steps = (n: number) => Math.max(1, Math.ceil(n / 2) - 1);
  let peak = 0;
  for (let wy = 0; wy < steps(box.h); wy++) {
    for (let wx = 0; wx < steps(box.w); wx++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        let n = 0;
        for (let y = box.y + 2 * wy; y < Math.min(box.y + 2 * wy + 4, box.y + box.h); y++) {
          for (let x = box.x + 2 * wx; x < Math.min(box.x + 2 * wx + 4, box.x + box.w); x++) {
            s += b[(y * W + x) * 3 + c] - a[((y + dy) * W + x + dx) * 3 + c];
            n++;
          }
        }
        peak = Math.max(peak, Math.abs(s) / n);
      }
    }
  }
  return peak;
}

describe('temporal: tile reuse', () => {
  it('selects the value a sort puts at index k (the flow medians of the shift search)', () => {
    const r = rng(21);
    for (const n of [1, 2, 3, 7, 64, 1024, 4096])
      for (const spread of [3, 1000]) {
        // Few distinct values (many ties) and many.
        const a = Float32Array.from({ length: n }, () => Math.round((r() - 0.5) * spread) / 4);
        const sorted = a.slice().sort();
        // Equal as numbers: a sort puts −0 before +0, the selection may return either (both round to shift 0).
        for (const k of new Set([0, n >> 1, n - 1, Math.floor(r() * n)]))
          assert.equal(kthSmallest(a.slice(), k) + 0, sorted[k] + 0, `n ${n} spread ${spread} k ${k}`);
      }
  });

  it('groups changed tiles into merged rectangles', () => {
    // 6×4 grid: a 2×2 blob, a diagonal neighbour, and a far single tile.
    const g = new Uint8Array(24);
    for (const [c, r] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
      [2, 2],
      [5, 3],
    ])
      g[r * 6 + c] = 1;
    const spans = groupChangedTiles(g, 6, 4);
    assert.deepEqual(
      spans.sort((a, b) => a.c - b.c),
      [
        { c: 0, r: 0, cols: 3, rows: 3 },
        { c: 5, r: 3, cols: 1, rows: 1 },
      ],
    );
    assert.deepEqual(groupChangedTiles(new Uint8Array(24), 6, 4), []);
  });

  it('roundedTileMedian is Math.round of the sorted tile’s middle value, small spans and wide ones', () => {
    const r = rng(22);
    const plane = new Float32Array(W * H);
    const scratch = new Float32Array(W * H);
    for (let i = 0; i < 300; i++) {
      const spread = [0.4, 3, 40, 500][i % 4];
      const offset = (r() - 0.5) * 200;
      for (let p = 0; p < plane.length; p++) plane[p] = offset + (r() - 0.5) * spread + (r() < 0.05 ? 0.5 : 0);
      const box = { x: Math.floor(r() * 40), y: Math.floor(r() * 20), w: 0, h: 0 };
      box.w = 1 + Math.floor(r() * Math.min(16, W - box.x));
      box.h = 1 + Math.floor(r() * Math.min(16, H - box.y));
      const values: number[] = [];
      for (let y = box.y; y < box.y + box.h; y++)
        for (let x = box.x; x < box.x + box.w; x++) values.push(plane[y * W + x]);
      values.sort((a, b) => a - b);
      const want = Math.round(values[values.length >> 1]) + 0;
      assert.equal(roundedTileMedian(plane, W, box, scratch) + 0, want, `spread ${spread}`);
    }
  });

  it('tileChange matches its definition on random tiles', () => {
    const r = rng(11);
    for (let i = 0; i < 50; i++) {
      const a = withNoise(texture(W, H, i), 0, 0);
      const b = withNoise(a, Math.floor(r() * 20), i);
      const x = Math.floor(r() * 40);
      const y = Math.floor(r() * 20);
      const w = 1 + Math.floor(r() * (W - x));
      const h = 1 + Math.floor(r() * (H - y));
      const got = tileChange(b, a, W, { x, y, w, h });
      assert.ok(Math.abs(got - naiveChange(b, a, x, y, w, h)) < 1e-9);
    }
  });

  it('tileWindowChange matches its definition on random tiles, in place and shifted', () => {
    const r = rng(12);
    for (let i = 0; i < 200; i++) {
      const a = withNoise(texture(W, H, i), 0, 0);
      const b = withNoise(a, Math.floor(r() * 20), i);
      const box = { x: Math.floor(r() * 40), y: Math.floor(r() * 20), w: 0, h: 0 };
      box.w = 1 + Math.floor(r() * Math.min(12, W - box.x));
      box.h = 1 + Math.floor(r() * Math.min(12, H - box.y));
      const moved = i % 2 === 1;
      const dx = moved ? Math.floor(r() * (W - box.w + 1)) - box.x : 0;
      const dy = moved ? Math.floor(r() * (H - box.h + 1)) - box.y : 0;
      const got = tileWindowChange(b, a, W, box, dx, dy);
      assert.ok(Math.abs(got - naiveWindowChange(a, b, box, dx, dy)) < 1e-9, `${JSON.stringify(box)} ${dx},${dy}`);
    }
  });

  it('property: never serves a tile whose input changed beyond the threshold since its output was made', async () => {
    const r = rng(2024);
    for (let run = 0; run < 25; run++) {
      const threshold = [0, 0.5, 1.5, 4][run % 4];
      const tile = [4, 8, 16][run % 3];
      const refreshEvery = [0, 5, 7][run % 3];
      const inner = new ReplicateUpscaler(2);
      const up = new ReuseUpscaler(inner, { tile, pad: 3, threshold, refreshEvery });
      const inputs: Buffer[] = [];
      let cur = texture(W, H, run);
      for (let i = 0; i < 14; i++) {
        // Random mix: untouched, faint noise, a local edit, a moving square, a big change.
        const kind = r();
        if (kind < 0.25) cur = withNoise(cur, Math.floor(r() * 3), run * 100 + i);
        else if (kind < 0.5) {
          cur = Buffer.from(cur);
          const p = Math.floor(r() * W * H) * 3;
          cur[p] = Math.floor(r() * 256);
        } else if (kind < 0.8) {
          const size = 1 + Math.floor(r() * 10);
          cur = withSquare(cur, W, {
            x: Math.floor(r() * W),
            y: Math.floor(r() * H),
            size,
            rgb: [Math.floor(r() * 256), Math.floor(r() * 256), Math.floor(r() * 256)],
          });
        } else if (kind < 0.9) cur = withNoise(cur, 40, i);
        inputs.push(cur);
        const out = await up.upscale(cur, W, H);
        const sources = up.tileSources();
        const cols = Math.ceil(W / tile);
        for (let t = 0; t < sources.length; t++) {
          const src = sources[t];
          const x = (t % cols) * tile;
          const y = Math.floor(t / cols) * tile;
          const w = Math.min(tile, W - x);
          const h = Math.min(tile, H - y);
          const ctx = `run ${run} frame ${i} tile ${t} (from ${src})`;
          assert.ok(src <= i && (refreshEvery === 0 || i - src < refreshEvery), ctx);
          // The output really is the model's output for that earlier input (replication shows the source pixels).
          for (let yy = y; yy < y + h; yy++) {
            for (let xx = x; xx < x + w; xx++) {
              const o = (yy * 2 * W * 2 + xx * 2) * 3;
              const s = (yy * W + xx) * 3;
              assert.deepEqual([...out.subarray(o, o + 3)], [...inputs[src].subarray(s, s + 3)], ctx);
            }
          }
          assert.ok(naiveChange(cur, inputs[src], x, y, w, h) <= threshold, ctx);
        }
      }
    }
  });

  it('reuses a static picture, recomputes a moving square, refreshes every K frames and on scene cuts', async () => {
    const inner = new ReplicateUpscaler(2);
    const up = new ReuseUpscaler(inner, { tile: 8, pad: 2, threshold: 1.5, refreshEvery: 6 });
    const base = texture(W, H, 1);
    const decisions: string[] = [];
    for (let i = 0; i < 8; i++) {
      const f = withSquare(withNoise(base, 1, i), W, { x: i * 2, y: 2, size: 4, rgb: [255, 0, 0] });
      await up.upscale(f, W, H);
      decisions.push(up.lastDecision);
      if (up.lastDecision === 'tiles') assert.ok(up.lastReusedTiles >= 12, `reused ${up.lastReusedTiles} of 24`);
    }
    assert.deepEqual(decisions, ['first', 'tiles', 'tiles', 'tiles', 'tiles', 'tiles', 'refresh', 'tiles']);
    assert.ok(up.reuseRatio > 0.4 && up.reuseRatio < 1, `ratio ${up.reuseRatio}`);
    await up.upscale(Buffer.from(base.map((v) => 255 - v)), W, H);
    assert.equal(up.lastDecision, 'scene-cut');
    assert.equal(up.lastReusedTiles, 0);
    // A pan by 3 pixels: every tile changes, but it is the same shot.
    const inv = Buffer.from(base.map((v) => 255 - v));
    const panned = Buffer.from(inv);
    for (let y = 0; y < H; y++) panned.copyWithin(y * W * 3 + 9, y * W * 3, (y + 1) * W * 3 - 9);
    await up.upscale(panned, W, H);
    assert.equal(up.lastDecision, 'too-many-changes');
    await assert.rejects(up.upscale(base.subarray(3), W, H), /expected/);
  });
});
