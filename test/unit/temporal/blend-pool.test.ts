import assert from 'node:assert/strict';
import { blendPlannedOnCpu, type PlannedBlend } from '../../../src/engine/temporal/blend-plan';
import { blendPoolThreads, PoolClosedError } from '../../../src/engine/temporal/blend-pool';
import { SimdBlend } from '../../../src/engine/temporal/blend-simd';
import { warpedPlan } from '../../../src/engine/temporal/motion-blend';
import { rng } from './frames';
import { randomPlan, randomWarped, smoothFrame } from './plans';

type Size = { width: number; height: number; scale: number };

/** A sequence of frames of one size and, for each, a plan over the frames before it (some motion, some copied in). */
function* planSequence(r: () => number, size: Size, frames: number) {
  const ow = size.width * size.scale;
  const oh = size.height * size.scale;
  const outputs: Buffer[] = [];
  for (let i = 0; i < frames; i++) {
    const raw = smoothFrame(r, ow, oh, i);
    const pasts = outputs.slice(-3).reverse();
    if (pasts.length > 0) {
      const warped = r() < 0.6 ? randomWarped(r, size, pasts) : undefined;
      const same = warped && r() < 0.5 ? Uint8Array.from({ length: size.width * size.height }, () => 1) : undefined;
      // The same plan twice: one for each side (a plan is consumed as it is carried out).
      const make = (): PlannedBlend =>
        warped ? { plan: warpedPlan(raw, warped, size, true, same), size } : randomPlan(rng(i), size, pasts, true);
      yield { raw, a: make(), b: make() };
    }
    outputs.push(raw);
  }
}

describe('temporal: the blend on the pool’s threads (issue 33)', () => {
  it('gives the bytes of the blend in one thread on 1, 2 and 3 threads, frame after frame, any height', async () => {
    const r = rng(71);
    for (const threads of [1, 2, 3]) {
      const here = SimdBlend.create();
      const pool = SimdBlend.create();
      assert.ok(here && pool);
      pool.usePool(threads);
      let blended = 0;
      try {
        // Heights under the thread count too (fewer bands than threads); ×3 rows are not a multiple of 16 bytes.
        for (const size of [
          { width: 23, height: 17, scale: 4 },
          { width: 9, height: 2, scale: 3 },
          { width: 16, height: 11, scale: 2 },
        ])
          for (const { raw, a, b } of planSequence(r, size, 6)) {
            const want = here.blend(raw, a);
            const got: Uint8Array = await pool.blendLater(raw, b);
            const what = `${threads} threads, ${size.width}×${size.height} ×${size.scale}`;
            assert.ok(Buffer.from(got).equals(Buffer.from(want)), what);
            assert.equal(got === raw, want === raw, `${what}: a plan with no block gives the model’s own bytes`);
            if (want !== raw) blended++;
          }
        assert.ok(blended >= 12, `${blended} frames blended`);
        assert.equal(pool.pooled, blended, 'every blend carried out by the threads');
        assert.equal(pool.poolThreads, threads);
        assert.equal(pool.poolFailure, undefined);
      } finally {
        pool.stopPool();
      }
    }
  });

  it('blends in order while several are asked at once, and refuses a blend in this thread meanwhile', async () => {
    const r = rng(72);
    const pool = SimdBlend.create();
    const here = SimdBlend.create();
    assert.ok(pool && here);
    pool.usePool(2);
    try {
      const steps = [...planSequence(r, { width: 20, height: 12, scale: 4 }, 5)];
      const pending = steps.map(({ raw, b }) => pool.blendLater(raw, b));
      assert.throws(() => pool.blend(steps[0].raw, steps[0].a), /while the pool blends/);
      const got = await Promise.all(pending);
      for (const [i, { raw, a }] of steps.entries())
        assert.ok(Buffer.from(got[i]).equals(Buffer.from(here.blend(raw, a))), `frame ${i + 1}`);
      // Nothing pending any more: this thread may blend again.
      const last = steps[steps.length - 1];
      assert.ok(Buffer.from(pool.blend(last.raw, randomPlan(rng(9), last.a.size, last.a.plan.pasts, true))).length);
    } finally {
      pool.stopPool();
    }
  });

  it('a blend cut short by stopPool() rejects as stopped, not failed; the next one starts the threads again', async () => {
    const r = rng(73);
    const pool = SimdBlend.create();
    assert.ok(pool);
    pool.usePool(2);
    try {
      const steps = [...planSequence(r, { width: 96, height: 54, scale: 8 }, 3)];
      const cut = pool.blendLater(steps[0].raw, steps[0].b);
      // By the next turn of the event loop the blend was placed and handed to the threads (which this first call
      // starts: they cannot have answered yet).
      await new Promise(setImmediate);
      pool.stopPool();
      await assert.rejects(cut, PoolClosedError);
      assert.equal(pool.poolFailure, undefined, 'a stop is not a failure');
      const { raw, a, b } = steps[1];
      const want = blendPlannedOnCpu(raw, a);
      const pooledBefore = pool.pooled;
      assert.ok(Buffer.from(await pool.blendLater(raw, b)).equals(want));
      assert.equal(pool.pooled, pooledBefore + 1, 'the threads started again and blended it');
    } finally {
      pool.stopPool();
    }
  });
});

describe('temporal: how many threads the blend pool has (issue 33)', () => {
  it('the cores but one, 2 to 4, unless HUAJU4K_BLEND_THREADS says (0: none)', () => {
    const saved = process.env.HUAJU4K_BLEND_THREADS;
    try {
      delete process.env.HUAJU4K_BLEND_THREADS;
      assert.deepEqual(
        [1, 2, 3, 4, 5, 16].map((cores) => blendPoolThreads(cores)),
        [2, 2, 2, 3, 4, 4],
      );
      process.env.HUAJU4K_BLEND_THREADS = '0';
      assert.equal(blendPoolThreads(16), 0);
      process.env.HUAJU4K_BLEND_THREADS = '3';
      assert.equal(blendPoolThreads(2), 3);
      process.env.HUAJU4K_BLEND_THREADS = 'many';
      assert.equal(blendPoolThreads(8), 4, 'not a number: the default');
    } finally {
      if (saved === undefined) delete process.env.HUAJU4K_BLEND_THREADS;
      else process.env.HUAJU4K_BLEND_THREADS = saved;
    }
  });
});
