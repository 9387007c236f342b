import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MotionEstimator } from '../../../src/engine/temporal/motion';
import { ReuseUpscaler } from '../../../src/engine/temporal/reuse-upscaler';
import { tileChange, tileWindowChange } from '../../../src/engine/temporal/tile-change';
import { writeNaturalPng } from '../reference/natural-image';
import { ReplicateUpscaler, realPanFrames, rng, texture, withNoise, withSquare } from './frames';

const W = 128;
const H = 72;

/** A W×H window at (x, y) of a larger textured picture: moving the window pans the camera. */
function windowOf(big: Buffer, bigW: number, x: number, y: number): Buffer {
  const out = Buffer.alloc(W * H * 3);
  for (let r = 0; r < H; r++) big.copy(out, r * W * 3, ((y + r) * bigW + x) * 3, ((y + r) * bigW + x + W) * 3);
  return out;
}

/** Every `s`-th output pixel: with ReplicateUpscaler, exactly the input each output pixel was made from. */
function decimate(out: Uint8Array, s: number): Buffer {
  const d = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      d.set(out.subarray((y * s * W * s + x * s) * 3, (y * s * W * s + x * s) * 3 + 3), (y * W + x) * 3);
  return d;
}

describe('temporal: motion-compensated tile reuse', () => {
  it('a pan by whole pixels reuses tiles through shifts (up to shiftMaxAge frames old); output equals per-frame', async () => {
    const big = texture(W + 40, H + 20, 5);
    for (const [shiftMaxAge, ratio] of [
      [1, 0.35],
      [8, 0.6],
    ]) {
      const inner = new ReplicateUpscaler(2);
      const up = new ReuseUpscaler(inner, { shiftMaxAge }, new MotionEstimator());
      const fresh = new ReplicateUpscaler(2);
      for (let i = 0; i < 10; i++) {
        const frame = windowOf(big, W + 40, 2 * i, i);
        const out = await up.upscale(frame, W, H);
        assert.ok(out.equals(await fresh.upscale(frame, W, H)), `age ${shiftMaxAge}, frame ${i}`);
        const ages = up.tileSources().map((s) => i - s);
        assert.ok(
          Math.max(...ages) <= shiftMaxAge,
          `age ${shiftMaxAge}, frame ${i}: tiles up to ${Math.max(...ages)} old`,
        );
        if (i % (shiftMaxAge + 1) !== 0)
          assert.ok(up.lastShifted > 0, `frame ${i}: ${up.lastDecision}, ${up.lastShifted} shifted`);
      }
      assert.ok(up.reuseRatio > ratio, `age ${shiftMaxAge}: reuse ratio ${up.reuseRatio.toFixed(2)}`);
      assert.ok(
        inner.pixels < fresh.pixels * (1.1 - ratio),
        `model pixels ${inner.pixels} vs per-frame ${fresh.pixels}`,
      );
    }
    const still = new ReuseUpscaler(new ReplicateUpscaler(2));
    for (let i = 0; i < 10; i++) await still.upscale(windowOf(big, W + 40, 2 * i, i), W, H);
    assert.equal(still.reuseRatio, 0, 'without motion a pan reuses nothing (the frames are whole)');
  });

  it('property: every served tile matches the current input within the threshold (× shiftTolerance when shifted), or within the grain allowance (in place)', async () => {
    const r = rng(77);
    for (let run = 0; run < 12; run++) {
      const threshold = [0, 1.5, 4][run % 3];
      const tile = [4, 8][run % 2];
      const shiftTolerance = run < 6 ? 1 : 2.5;
      const bound = threshold * shiftTolerance;
      const big = texture(W + 60, H + 40, 100 + run);
      const up = new ReuseUpscaler(
        new ReplicateUpscaler(2),
        { tile, pad: 3, threshold, refreshEvery: 0, shiftMaxAge: 4, shiftTolerance },
        new MotionEstimator(),
      );
      let x = 20;
      let y = 20;
      for (let i = 0; i < 10; i++) {
        // Random camera moves (whole and fractional-free pixel steps), noise, and an object on top.
        x = Math.max(0, Math.min(60, x + Math.floor(r() * 7) - 3));
        y = Math.max(0, Math.min(40, y + Math.floor(r() * 5) - 2));
        let frame = windowOf(big, W + 60, x, y);
        if (r() < 0.5) frame = withNoise(frame, Math.floor(r() * 4), run * 10 + i);
        if (r() < 0.5)
          frame = withSquare(frame, W, { x: Math.floor(r() * W), y: Math.floor(r() * H), size: 6, rgb: [250, 10, 10] });
        const made = decimate(await up.upscale(frame, W, H), 2);
        const grain = up.lastGrainAllowance;
        if (threshold === 0) assert.equal(grain, undefined, 'threshold 0 reuses identical tiles only');
        for (let ty = 0; ty < H; ty += tile) {
          for (let tx = 0; tx < W; tx += tile) {
            const box = { x: tx, y: ty, w: Math.min(tile, W - tx), h: Math.min(tile, H - ty) };
            const change = tileChange(frame, made, W, box);
            const grainStill =
              !!grain && change <= grain.mean + 1e-9 && tileWindowChange(frame, made, W, box) <= grain.window + 1e-9;
            assert.ok(
              change <= bound + 1e-9 || grainStill,
              `run ${run} frame ${i} tile ${tx},${ty}: ${change.toFixed(2)} > ${bound}`,
            );
          }
        }
      }
    }
  });
});

describe('temporal: motion-compensated tile reuse on a real pan with camera grain', function () {
  this.timeout(60000);
  let dir: string;
  let png: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'huaju4k-shift-'));
    png = join(dir, 'real.png');
    writeNaturalPng(png, 640, 480);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a moved tile may differ from its shifted reference by threshold × shiftTolerance: more is served by shifts, each within it', async () => {
    // Grain of ±3 levels, new every frame: a moved tile differs from its shifted reference by ≈ 2 levels.
    const frames = realPanFrames(png, { width: W, height: H, frames: 10, step: [1, 0], noise: 3 });
    const threshold = 1.5;
    const serve = async (shiftTolerance: number) => {
      const inner = new ReplicateUpscaler(2);
      const up = new ReuseUpscaler(inner, { threshold, shiftTolerance, refreshEvery: 0 }, new MotionEstimator());
      let worst = 0;
      for (const frame of frames) {
        const made = decimate(await up.upscale(frame, W, H), 2);
        for (let ty = 0; ty < H; ty += 8)
          for (let tx = 0; tx < W; tx += 8)
            worst = Math.max(worst, tileChange(frame, made, W, { x: tx, y: ty, w: 8, h: 8 }));
      }
      return { shifted: up.shiftedTiles, pixels: inner.pixels, worst };
    };
    const strict = await serve(1);
    const tolerant = await serve(2);
    assert.ok(strict.worst <= threshold, `tolerance 1: a served tile differs by ${strict.worst.toFixed(2)}`);
    assert.ok(tolerant.worst <= 2 * threshold, `tolerance 2: a served tile differs by ${tolerant.worst.toFixed(2)}`);
    assert.ok(
      tolerant.worst > threshold,
      'the grain is strong enough that tolerance 2 serves some tiles tolerance 1 does not',
    );
    assert.ok(
      tolerant.shifted > 2 * strict.shifted && tolerant.pixels < 0.8 * strict.pixels,
      `shifted tiles ${strict.shifted} → ${tolerant.shifted}, model pixels ${strict.pixels} → ${tolerant.pixels}`,
    );
  });

  it('rejects a shift tolerance below 1', () => {
    assert.throws(() => new ReuseUpscaler(new ReplicateUpscaler(2), { shiftTolerance: 0.5 }), /shift tolerance/);
  });
});
