import assert from 'node:assert/strict';
import { lumaOf } from '../../../src/engine/temporal/change-mask';
import { MotionEstimator, type MotionLink } from '../../../src/engine/temporal/motion';
import { type PastFrame, warpedPasts } from '../../../src/engine/temporal/motion-blend';
import { temporalParams } from '../../../src/engine/temporal/strength';
import { SimdWarp } from '../../../src/engine/temporal/warp-simd';
import { clipPath, decodeRgbFrames } from '../../../tools/models/calibrate';
import { texture, withSquare } from './frames';

/** Luma planes of real footage: cockatoo.mp4 from frame 10 (hand-held: the camera shakes and tilts). */
function handheld(w: number, h: number, frames: number): Uint8Array[] {
  const vf = `select=gte(n\\,10),scale=${w}:${h}:flags=area`;
  return decodeRgbFrames(clipPath('cockatoo.mp4'), vf, w, h, frames).map((rgb) => lumaOf(rgb, w * h));
}

/** A fixed camera: a still texture with a square moving across one part of it (the flows' region is that part). */
function fixedCamera(w: number, h: number, frames: number): Uint8Array[] {
  const still = texture(w, h, 5);
  return Array.from({ length: frames }, (_, t) =>
    lumaOf(withSquare(still, w, { x: 10 + 3 * t, y: 12, size: 8, rgb: [250, 40, 40] }), w * h),
  );
}

/** The history the stage holds at the last frame: up to `m` pasts and their links, newest first. */
function history(lumas: Uint8Array[], w: number, h: number, m: number) {
  const motion = new MotionEstimator();
  const last = lumas.length - 1;
  const pasts: PastFrame[] = [];
  const links: MotionLink[] = [];
  for (let k = 0; k < m; k++) {
    pasts.push({ luma: lumas[last - 1 - k], output: new Uint8Array(0) });
    links.push(motion.link(lumas[last - k], lumas[last - 1 - k], w, h));
  }
  return { cur: lumas[last], pasts, links };
}

describe('temporal: the motion plan in WebAssembly (warp-simd.ts, issue 33)', function () {
  this.timeout(60000);

  for (const [name, make, w, h] of [
    ['real hand-held footage', handheld, 96, 54],
    // Widths that are not a multiple of the kernels' vectors (2, 4, 8 pixels): every pass has a scalar tail.
    ['real hand-held footage at an odd size', handheld, 61, 37],
    ['a fixed camera with one moving part', fixedCamera, 80, 48],
  ] as const) {
    it(`gives warpedPasts()’s numbers on ${name}, 1 to 5 pasts, ×2 and ×4`, () => {
      const simd = SimdWarp.create();
      assert.ok(simd, 'WebAssembly is available');
      const lumas = make(w, h, 7);
      let moved = 0;
      let partial = 0;
      for (const m of [1, 2, 3, 5])
        for (const scale of [2, 4]) {
          const { cur, pasts, links } = history(lumas, w, h, m);
          const size = { width: w, height: h, scale };
          const t = temporalParams(m > 3 ? 'high' : 'medium');
          const want = warpedPasts(cur, pasts, links, size, t);
          const got = simd.warpedPasts(cur, pasts, links, size, t);
          assert.equal(got.length, want.length);
          for (let k = 0; k < want.length; k++) {
            const what = `${m} pasts ×${scale}, past ${k}`;
            assert.deepEqual(got[k].weight, want[k].weight, `${what}: weights`);
            assert.deepEqual([got[k].ox, got[k].oy], [want[k].ox, want[k].oy], `${what}: offsets`);
            assert.equal(got[k].output, pasts[k].output);
            moved += want[k].ox.filter((o) => o !== 0).length;
          }
          partial += links.filter((l) => l.region && l.region.w * l.region.h < w * h).length;
        }
      assert.equal(simd.failure, undefined);
      assert.equal(simd.runs, 8);
      assert.ok(moved > 100, `${moved} offsets follow the motion`);
      if (make === fixedCamera) assert.ok(partial > 0, 'the flows cover part of the frame only');
    });
  }

  it('a flow with values that are not numbers (NaN): the same numbers as TypeScript', () => {
    const simd = SimdWarp.create();
    assert.ok(simd);
    const { cur, pasts, links } = history(handheld(64, 36, 5), 64, 36, 3);
    // Scattered through u of the older links (v stays a number there, so the offsets' y is not zero).
    for (let i = 3; i < 64 * 36; i += 7) links[1 + (i % 2)].back.u[i] = Number.NaN;
    const size = { width: 64, height: 36, scale: 2 };
    const t = temporalParams('medium');
    assert.deepEqual(simd.warpedPasts(cur, pasts, links, size, t), warpedPasts(cur, pasts, links, size, t));
  });

  it('a pair where nothing moved (no region): the still hypothesis alone, as in TypeScript', () => {
    const simd = SimdWarp.create();
    assert.ok(simd);
    const still = lumaOf(texture(40, 30, 9), 40 * 30);
    const lumas = [still, still, still];
    const { cur, pasts, links } = history(lumas, 40, 30, 2);
    assert.equal(links[0].region, undefined);
    const size = { width: 40, height: 30, scale: 2 };
    const t = temporalParams('medium');
    assert.deepEqual(simd.warpedPasts(cur, pasts, links, size, t), warpedPasts(cur, pasts, links, size, t));
  });
});
