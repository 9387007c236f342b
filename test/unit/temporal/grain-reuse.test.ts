import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GRAIN_MEAN_FACTOR } from '../../../src/engine/temporal/grain-gate';
import { MotionEstimator } from '../../../src/engine/temporal/motion';
import { ReuseUpscaler } from '../../../src/engine/temporal/reuse-upscaler';
import { tileChange, tileWindowChange } from '../../../src/engine/temporal/tile-change';
import { writeNaturalPng } from '../reference/natural-image';
import { ReplicateUpscaler, realPanFrames, withSquare } from './frames';

const W = 128;
const H = 72;
const BALL = 6;
/** A fixed camera with grain of ±8 levels (σ ≈ 4.6), new every frame, and a ball crossing it 3 px per frame. */
function grainyScene(png: string, frames: number): { frames: Buffer[]; ball: (i: number) => { x: number; y: number } } {
  const still = realPanFrames(png, { width: W, height: H, frames, step: [0, 0], noise: 8 });
  const ball = (i: number) => ({ x: 20 + 3 * i, y: 30 + i });
  const rgb: [number, number, number] = [240, 230, 40];
  return { frames: still.map((f, i) => withSquare(f, W, { ...ball(i), size: BALL, rgb })), ball };
}

/** Every 2nd output pixel of a ×2 ReplicateUpscaler output: the input each output pixel was made from. */
function madeFrom(out: Uint8Array): Buffer {
  const d = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      d.set(out.subarray((y * 2 * W * 2 + x * 2) * 3, (y * 2 * W * 2 + x * 2) * 3 + 3), (y * W + x) * 3);
  return d;
}

/** A natural picture written once for the describe block that calls this (its path, once `before` ran). */
function naturalPicture(): () => string {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'huaju4k-grain-'));
    writeNaturalPng(join(dir, 'real.png'), 640, 480);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  return () => join(dir, 'real.png');
}

describe('temporal: the grain measures of tile reuse (issue 31)', function () {
  this.timeout(120000);
  const picture = naturalPicture();

  it('tileWindowChange: grain cancels in a window mean, a ball does not', () => {
    const [a, b] = realPanFrames(picture(), { width: W, height: H, frames: 2, step: [0, 0], noise: 8 });
    let worstWindow = 0;
    let leastMean = Infinity;
    for (let y = 0; y < H; y += 8)
      for (let x = 0; x < W; x += 8) {
        const box = { x, y, w: 8, h: 8 };
        worstWindow = Math.max(worstWindow, tileWindowChange(b, a, W, box));
        leastMean = Math.min(leastMean, tileChange(b, a, W, box));
      }
    assert.ok(leastMean > 1.5, `grain alone fails the present test on every tile (least mean |Δ| ${leastMean})`);
    assert.ok(worstWindow < 8, `grain's window change stays small (${worstWindow.toFixed(2)})`);
    const ball = withSquare(b, W, { x: 33, y: 17, size: 4, rgb: [240, 230, 40] });
    assert.ok(tileWindowChange(ball, a, W, { x: 32, y: 16, w: 8, h: 8 }) > 20, 'a 4-pixel ball stands out');
  });

  it('the grain allowance follows the clip, bounded by its median tile', async () => {
    const scene = grainyScene(picture(), 8);
    const up = new ReuseUpscaler(new ReplicateUpscaler(2), { refreshEvery: 0 }, new MotionEstimator());
    let prev: Buffer | undefined;
    for (const frame of scene.frames) {
      const before = prev;
      prev = madeFrom(await up.upscale(frame, W, H));
      const a = up.lastGrainAllowance;
      if (!before || !a) continue;
      const levels: number[] = [];
      for (let y = 0; y < H; y += 8)
        for (let x = 0; x < W; x += 8) levels.push(tileChange(frame, before, W, { x, y, w: 8, h: 8 }));
      levels.sort((p, q) => p - q);
      assert.ok(
        a.mean <= GRAIN_MEAN_FACTOR * levels[levels.length >> 1] + 1e-6,
        `${a.mean} vs median ${levels[levels.length >> 1]}`,
      );
    }
  });
});

describe('temporal: tile reuse on a fixed camera with grain (issue 31)', function () {
  this.timeout(120000);
  const picture = naturalPicture();

  it('reuses most of a grainy still scene, recomputes where the ball is and was, never serves it stale', async () => {
    const scene = grainyScene(picture(), 16);
    const up = new ReuseUpscaler(new ReplicateUpscaler(2), {}, new MotionEstimator());
    for (const [i, frame] of scene.frames.entries()) {
      const made = madeFrom(await up.upscale(frame, W, H));
      const now = scene.ball(i);
      // Where the ball is, the output was made from this frame; where it was, no ball colour is left.
      for (let y = now.y; y < now.y + BALL; y++)
        for (let x = now.x; x < now.x + BALL; x++) {
          const p = (y * W + x) * 3;
          assert.deepEqual([...made.subarray(p, p + 3)], [...frame.subarray(p, p + 3)], `frame ${i} ball at ${x},${y}`);
        }
      if (i > 0) {
        const was = scene.ball(i - 1);
        for (let y = was.y; y < was.y + BALL; y++)
          for (let x = was.x; x < was.x + BALL; x++) {
            if (x >= now.x && x < now.x + BALL && y >= now.y && y < now.y + BALL) continue;
            const p = (y * W + x) * 3;
            assert.ok(
              !(made[p] === 240 && made[p + 1] === 230 && made[p + 2] === 40),
              `frame ${i}: stale ball at ${x},${y}`,
            );
          }
      }
    }
    assert.ok(up.reuseRatio > 0.6, `reuse ratio ${up.reuseRatio.toFixed(2)}`);
    const plain = new ReuseUpscaler(new ReplicateUpscaler(2));
    for (const frame of scene.frames) await plain.upscale(frame, W, H);
    assert.ok(plain.reuseRatio < 0.2, `--motion off keeps the present test: grain fails it (${plain.reuseRatio})`);
  });

  it('clean footage, threshold 0 and grain too strong to tell a change from keep the present test alone', async () => {
    const clean = realPanFrames(picture(), { width: W, height: H, frames: 6, step: [0, 0], noise: 1 });
    const up = new ReuseUpscaler(new ReplicateUpscaler(2), {}, new MotionEstimator());
    for (const frame of clean) {
      await up.upscale(frame, W, H);
      assert.equal(up.lastGrainAllowance, undefined, 'clean: no grain allowance');
    }
    const strict = new ReuseUpscaler(new ReplicateUpscaler(2), { threshold: 0 }, new MotionEstimator());
    for (const frame of grainyScene(picture(), 6).frames) {
      await strict.upscale(frame, W, H);
      assert.equal(strict.lastGrainAllowance, undefined, 'threshold 0 reuses identical tiles only');
    }
    // ±24 levels (σ ≈ 14): a 4×4 window's mean moves by more than GRAIN_MAX_WINDOW / 3 on grain alone.
    const loud = realPanFrames(picture(), { width: W, height: H, frames: 6, step: [0, 0], noise: 24 });
    const drowned = new ReuseUpscaler(new ReplicateUpscaler(2), {}, new MotionEstimator());
    for (const frame of loud) {
      await drowned.upscale(frame, W, H);
      assert.equal(drowned.lastGrainAllowance, undefined, 'grain this strong hides a hand: no allowance');
    }
  });

  it('a resume primed from the last refresh serves the same bytes as an uninterrupted run', async () => {
    const scene = grainyScene(picture(), 14);
    const opts = { refreshEvery: 5 };
    const whole = new ReuseUpscaler(new ReplicateUpscaler(2), opts, new MotionEstimator());
    const outs: Buffer[] = [];
    for (const frame of scene.frames) outs.push(await whole.upscale(frame, W, H));
    const resumed = new ReuseUpscaler(new ReplicateUpscaler(2), opts, new MotionEstimator());
    const at = 12;
    resumed.seek(resumed.primeStart(at));
    for (let i = resumed.primeStart(at); i < at; i++) await resumed.upscale(scene.frames[i], W, H);
    for (let i = at; i < scene.frames.length; i++)
      assert.ok((await resumed.upscale(scene.frames[i], W, H)).equals(outs[i]), `frame ${i}`);
  });
});
