import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PipelineFrame } from '../../../src/engine/pipeline/pipeline-types';
import { blendPlannedOnCpu } from '../../../src/engine/temporal/blend-plan';
import { MotionEstimator } from '../../../src/engine/temporal/motion';
import { ReuseUpscaler } from '../../../src/engine/temporal/reuse-upscaler';
import { TemporalStage } from '../../../src/engine/temporal/temporal-stage';
import { writeNaturalPng } from '../reference/natural-image';
import { ReplicateUpscaler, realPanFrames, withSquare } from './frames';

const W = 96;
const H = 64;
const S = 2;

describe('temporal: blocks the reuse wrapper carried over unchanged are not blended (issue 33)', function () {
  this.timeout(120000);
  let dir: string;
  let frames: Buffer[];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'huaju4k-unchanged-'));
    const png = join(dir, 'real.png');
    writeNaturalPng(png, 640, 480);
    // A fixed camera on a real picture with ±1 level of noise every frame, and a square moving across it.
    const still = realPanFrames(png, { width: W, height: H, frames: 10, step: [0, 0], noise: 1 });
    frames = still.map((f, i) => withSquare(f, W, { x: 8 + 3 * i, y: 20, size: 12, rgb: [250, 30, 30] }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const motion of [false, true]) {
    it(`same bytes as blending them, far fewer blocks blended (--motion ${motion ? 'flow' : 'off'})`, async () => {
      const estimator = motion ? new MotionEstimator() : undefined;
      const reuse = new ReuseUpscaler(new ReplicateUpscaler(S), {}, estimator);
      const skipping = new TemporalStage({
        strength: 'high',
        motion: estimator,
        unchanged: (o) => reuse.unchangedTiles(o),
      });
      const blending = new TemporalStage({ strength: 'high', motion: estimator });
      let skipped = 0;
      let blended = 0;
      let changedByBlend = 0;
      for (let index = 0; index < frames.length; index++) {
        const output = await reuse.upscale(frames[index], W, H);
        const frame: PipelineFrame = {
          index,
          input: frames[index],
          inputSize: { width: W, height: H },
          output,
          outputSize: { width: W * S, height: H * S },
        };
        const a = skipping.plan(frame);
        const b = blending.plan(frame);
        const outA = a instanceof Uint8Array ? a : blendPlannedOnCpu(output, a);
        const outB = b instanceof Uint8Array ? b : blendPlannedOnCpu(output, b);
        assert.ok(Buffer.from(outA).equals(Buffer.from(outB)), `frame ${index}: the same bytes`);
        if (!Buffer.from(outB).equals(output)) changedByBlend++;
        if (!(a instanceof Uint8Array)) skipped += a.plan.blocks;
        if (!(b instanceof Uint8Array)) blended += b.plan.blocks;
      }
      assert.ok(reuse.reuseRatio > 0.5, `most tiles reused (${reuse.reuseRatio.toFixed(2)})`);
      assert.ok(changedByBlend >= 5, `the blend changed ${changedByBlend} frames (the noisy recomputed tiles)`);
      assert.ok(skipped > 0, 'the recomputed blocks are still blended');
      assert.ok(skipped < blended / 2, `${skipped} blocks blended instead of ${blended}`);
    });
  }
});
