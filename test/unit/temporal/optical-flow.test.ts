import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lumaOf } from '../../../src/engine/temporal/change-mask';
import { consistentMask, MotionEstimator } from '../../../src/engine/temporal/motion';
import type { FlowField } from '../../../src/engine/temporal/optical-flow';
import { boxSum, opticalFlow, sampleBilinear } from '../../../src/engine/temporal/optical-flow';
import { writeNaturalPng } from '../reference/natural-image';

/** Luma of a w×h window at (x, y) of a real frame, after an area downscale by `down` (so x, y may be fractions). */
function realWindow(png: string, w: number, h: number, x: number, y: number, down: number): Uint8Array {
  const raw = execFileSync(
    'ffmpeg',
    [
      ...['-v', 'error', '-i', png, '-vf'],
      `crop=${w * down}:${h * down}:${x * down}:${y * down},scale=${w}:${h}:flags=area,format=rgb24`,
      ...['-f', 'rawvideo', 'pipe:1'],
    ],
    { maxBuffer: 1 << 26 },
  );
  return lumaOf(raw, w * h);
}

/** Share of textured pixels (away from the border the shift uncovers) whose flow is within `tol` of (u, v). */
function recovered(
  a: Uint8Array,
  f: { u: Float32Array; v: Float32Array },
  w: number,
  h: number,
  u: number,
  v: number,
  tol = 0.25,
) {
  let near = 0;
  let textured = 0;
  for (let y = 8; y < h - 8; y++) {
    for (let x = 8; x < w - 8; x++) {
      const i = y * w + x;
      if (Math.abs(a[i + 1] - a[i - 1]) + Math.abs(a[i + w] - a[i - w]) < 8) continue;
      textured++;
      if (Math.hypot(f.u[i] - u, f.v[i] - v) <= tol) near++;
    }
  }
  return { share: near / textured, textured };
}

describe('temporal/optical-flow: pyramidal Lucas–Kanade on real frames', function () {
  this.timeout(60000);
  let dir: string;
  let png: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'huaju4k-flow-'));
    png = join(dir, 'real.png');
    writeNaturalPng(png, 640, 480);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [u, v] of [
    [-3, 2],
    [1.5, -0.5],
    [6, 4],
  ]) {
    it('the box sum equals the running sums walked column by column (the same float roundings)', () => {
      // Rows: a running sum per row; columns: a running sum per column, walked top to bottom one column at a time.
      const plain = (src: Float32Array, w: number, h: number, r: number) => {
        const tmp = new Float32Array(w * h);
        const out = new Float32Array(w * h);
        for (let y = 0; y < h; y++) {
          let s = 0;
          for (let x = 0; x <= Math.min(r, w - 1); x++) s += src[y * w + x];
          for (let x = 0; x < w; x++) {
            tmp[y * w + x] = s;
            if (x + r + 1 < w) s += src[y * w + x + r + 1];
            if (x - r >= 0) s -= src[y * w + x - r];
          }
        }
        for (let x = 0; x < w; x++) {
          let s = 0;
          for (let y = 0; y <= Math.min(r, h - 1); y++) s += tmp[y * w + x];
          for (let y = 0; y < h; y++) {
            out[y * w + x] = s;
            if (y + r + 1 < h) s += tmp[(y + r + 1) * w + x];
            if (y - r >= 0) s -= tmp[(y - r) * w + x];
          }
        }
        return out;
      };
      let seed = 7;
      const unit = () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      // Magnitudes from 1e-12 to 1e12: a sum in another order would round differently.
      const next = () => (unit() * 2 - 1) * 10 ** Math.round(unit() * 24 - 12);
      for (const [w, h] of [
        [1, 1],
        [1, 9],
        [9, 1],
        [3, 4],
        [7, 8],
        [40, 23],
      ])
        for (const r of [0, 1, 3, 5]) {
          const src = Float32Array.from({ length: w * h }, next);
          const out = new Float32Array(w * h);
          boxSum(src, w, h, r, new Float32Array(w * h), out);
          assert.deepEqual(out, plain(src, w, h, r), `${w}×${h} radius ${r}`);
        }
    });

    it(`recovers a known shift of (${u}, ${v}) px on a real frame`, () => {
      const a = realWindow(png, 256, 192, 20, 20, 2);
      const b = realWindow(png, 256, 192, 20 - u, 20 - v, 2);
      const f = opticalFlow(a, b, 256, 192);
      const r = recovered(a, f, 256, 192, u, v);
      assert.ok(r.textured > 2000, `the real frame has texture (${r.textured} px)`);
      assert.ok(r.share > 0.9, `${(r.share * 100).toFixed(1)} % of textured pixels within 0.25 px of (${u}, ${v})`);
    });
  }

  it('finestPixels: refined down to a half-size level and upsampled, a known shift is still found; at or above the plane size nothing changes (issue 33)', () => {
    const [w, h] = [288, 208];
    const a = realWindow(png, w, h, 20, 20, 2);
    const other = () => Uint8Array.from({ length: w * h }, (_, i) => (i * 37) % 251);
    for (const [u, v] of [
      [-3, 2],
      [1.5, -0.5],
    ]) {
      const b = realWindow(png, w, h, 20 - u, 20 - v, 2);
      const every = opticalFlow(a, b, w, h);
      assert.deepEqual(opticalFlow(a, b, w, h, { finestPixels: w * h }), every, 'a limit the plane is within');
      const half = opticalFlow(a, b, w, h, { finestPixels: (w / 2) * (h / 2) });
      assert.notDeepEqual(half.u, every.u, 'the finest level is not refined');
      // Within 0.25 px at the level it was refined on: 0.5 px at the plane's own size.
      const r = recovered(a, half, w, h, u, v, 0.5);
      assert.ok(r.share > 0.9, `${(r.share * 100).toFixed(1)} % of textured pixels within 0.5 px of (${u}, ${v})`);
      // The template made for the coarser levels only is extended, not mistaken for the whole: the same numbers as
      // a flow with every level computed after other planes pushed this pair's pyramids out.
      const after = opticalFlow(a, b, w, h);
      opticalFlow(other(), other().reverse(), w, h);
      opticalFlow(other().reverse(), other(), w, h);
      assert.deepEqual(after, opticalFlow(a, b, w, h));
    }
  });

  it("flows that reuse a plane's pyramid (a pair and the next pair) are the numbers computed afresh", () => {
    const frames = [0, 2, 5].map((dx) => realWindow(png, 96, 64, 20 + dx, 20, 2));
    const pairs = [
      [1, 0],
      [0, 1],
      [2, 1],
      [1, 2],
    ];
    // In sequence: the second flow of a pair and the next pair's first find their planes' pyramids again.
    const chained = pairs.map(([a, b]) => opticalFlow(frames[a], frames[b], 96, 64));
    // Afresh: before each, a flow of two other planes pushes the others out.
    const other = () => Uint8Array.from({ length: 96 * 64 }, (_, i) => (i * 37) % 251);
    const fresh = pairs.map(([a, b]) => {
      opticalFlow(other(), other().reverse(), 96, 64);
      opticalFlow(other().reverse(), other(), 96, 64);
      return opticalFlow(frames[a], frames[b], 96, 64);
    });
    for (let k = 0; k < pairs.length; k++) {
      assert.deepEqual(chained[k].u, fresh[k].u, `pair ${pairs[k]} u`);
      assert.deepEqual(chained[k].v, fresh[k].v, `pair ${pairs[k]} v`);
    }
    // A plane changed in place after its flow is not mistaken for the one it was.
    const moved = frames[0].slice();
    const first = opticalFlow(moved, frames[1], 96, 64);
    moved.set(frames[2]);
    assert.deepEqual(opticalFlow(moved, frames[1], 96, 64).u, fresh[2].u);
    assert.notDeepEqual(first.u, fresh[2].u);
  });

  it('the consistency mask is the forward–backward check with sampleBilinear, pixel by pixel', () => {
    const w = 23;
    const h = 17;
    let seed = 3;
    const unit = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    // Flows of up to ±4 px (some leave the frame), the forward one close to minus the backward one in places.
    const field = (): FlowField => ({
      width: w,
      height: h,
      u: Float32Array.from({ length: w * h }, () => (unit() - 0.5) * 8),
      v: Float32Array.from({ length: w * h }, () => (unit() - 0.5) * 8),
    });
    const back = field();
    const fwd = field();
    for (let i = 0; i < w * h; i += 2) {
      fwd.u[i] = -back.u[i];
      fwd.v[i] = -back.v[i];
    }
    const plain = new Uint8Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const [bu, bv] = [back.u[i], back.v[i]];
        const [qx, qy] = [x + bu, y + bv];
        if (qx < 0 || qy < 0 || qx > w - 1 || qy > h - 1) continue;
        const fu = sampleBilinear(fwd.u, w, h, qx, qy);
        const fv = sampleBilinear(fwd.v, w, h, qx, qy);
        const [du, dv] = [bu + fu, bv + fv];
        plain[i] = du * du + dv * dv <= 0.01 * (bu * bu + bv * bv + fu * fu + fv * fv) + 0.5 ? 1 : 0;
      }
    assert.deepEqual(consistentMask(back, fwd), plain);
    assert.ok(plain.includes(1) && plain.includes(0));
  });

  it('flags the pixels a shift uncovers as inconsistent, and keeps the rest', () => {
    const a = realWindow(png, 256, 192, 20, 20, 2);
    const b = realWindow(png, 256, 192, 24, 20, 2);
    const motion = new MotionEstimator();
    const link = motion.link(b, a, 256, 192);
    // b is a moved 4 px to the left: b's last 4 columns were outside a.
    let uncovered = 0;
    let inside = 0;
    for (let y = 0; y < 192; y++) {
      for (let x = 0; x < 256; x++) {
        if (x >= 252) uncovered += link.consistent[y * 256 + x];
        else if (x < 240) inside += link.consistent[y * 256 + x];
      }
    }
    assert.equal(uncovered, 0, 'no pixel that came from outside the previous frame is trusted');
    assert.ok(
      inside / (240 * 192) > 0.9,
      `most of the rest is consistent (${((inside / (240 * 192)) * 100).toFixed(1)} %)`,
    );
    assert.deepEqual(consistentMask(link.back, motion.flow(a, b, 256, 192)), link.consistent);
    assert.equal(motion.stats.flows, 2, 'the memo served the repeated flow');
  });
});
