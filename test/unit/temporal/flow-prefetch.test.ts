import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lumaOf } from '../../../src/engine/temporal/change-mask';
import { FlowPrefetch, flowWorkerCount } from '../../../src/engine/temporal/flow-prefetch';
import { MotionEstimator } from '../../../src/engine/temporal/motion';
import { writeNaturalPng } from '../reference/natural-image';
import { realPanFrames } from './frames';

const W = 96;
const H = 64;

describe('temporal/flow-prefetch: the flows of upcoming frames in a worker thread', function () {
  this.timeout(120000);
  let dir: string;
  let frames: Buffer[];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'huaju4k-prefetch-'));
    const png = join(dir, 'real.png');
    writeNaturalPng(png, 640, 480);
    frames = realPanFrames(png, { width: W, height: H, frames: 4, step: [2, 1], noise: 2 });
    // A scene cut: the picture inverted.
    frames.push(Buffer.from(frames[3].map((b) => 255 - b)));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('hands the estimator exactly the flows it would compute itself, and it computes none (two workers)', async () => {
    const motion = new MotionEstimator();
    const prefetch = new FlowPrefetch(motion, { back: true, fwd: true }, 2);
    try {
      for (let i = 0; i < frames.length; i++) await prefetch.offer(i, frames[i], W, H);
      const alone = new MotionEstimator();
      for (let i = 1; i < 4; i++) {
        await prefetch.ready(i);
        const cur = lumaOf(frames[i], W * H);
        const prev = lumaOf(frames[i - 1], W * H);
        const got = motion.link(cur, prev, W, H);
        const want = alone.link(cur, prev, W, H);
        assert.deepEqual(got.back.u, want.back.u, `frame ${i}: backward flow u`);
        assert.deepEqual(got.back.v, want.back.v, `frame ${i}: backward flow v`);
        assert.deepEqual(got.consistent, want.consistent, `frame ${i}: consistency (from the forward flow)`);
        assert.ok(
          want.back.u.some((x) => x !== 0),
          'the pan moved',
        );
      }
      await prefetch.ready(4);
      assert.equal(motion.stats.flows, 0, 'every flow came from the worker');
      assert.equal(motion.stats.links, 0, 'every link (consistency mask, region) too');
      assert.equal(prefetch.deliveredPairs, 3, 'three pairs delivered; the first frame and the scene cut have none');
      assert.equal(prefetch.failed, undefined);
    } finally {
      prefetch.close();
    }
  });

  it('computes only the directions asked for, and skips the frames it is told to', async () => {
    const motion = new MotionEstimator();
    const prefetch = new FlowPrefetch(motion, { back: true, fwd: false, skip: (i) => i === 2 }, 1);
    try {
      for (let i = 0; i < 4; i++) await prefetch.offer(i, frames[i], W, H);
      for (let i = 1; i < 4; i++) {
        await prefetch.ready(i);
        motion.flow(lumaOf(frames[i], W * H), lumaOf(frames[i - 1], W * H), W, H);
      }
      assert.equal(prefetch.deliveredPairs, 2, 'frames 1 and 3');
      assert.equal(motion.stats.flows, 1, 'frame 2, skipped, was computed in-thread');
      const back = motion.flow(lumaOf(frames[3], W * H), lumaOf(frames[2], W * H), W, H);
      const fwd = motion.flow(lumaOf(frames[2], W * H), lumaOf(frames[3], W * H), W, H);
      assert.ok(back.u.some((x) => x !== 0));
      assert.equal(motion.stats.flows, 2, 'the forward flow was not prefetched');
      assert.ok(fwd.u.some((x) => x !== 0));
    } finally {
      prefetch.close();
    }
  });

  it('after close(), frames in flight resolve without flows and a new offer starts a new worker', async () => {
    const motion = new MotionEstimator();
    const prefetch = new FlowPrefetch(motion, { back: true, fwd: true }, 1);
    try {
      await prefetch.offer(0, frames[0], W, H);
      await prefetch.offer(1, frames[1], W, H);
      prefetch.close();
      await prefetch.ready(1);
      assert.equal(prefetch.deliveredPairs, 0);
      await prefetch.offer(1, frames[1], W, H);
      await prefetch.offer(2, frames[2], W, H);
      await prefetch.ready(2);
      assert.equal(prefetch.deliveredPairs, 1);
    } finally {
      prefetch.close();
    }
  });

  it('runs at most maxAhead pairs ahead: offer() waits until ready() takes one (memory stays bounded)', async () => {
    const prefetch = new FlowPrefetch(new MotionEstimator(), { back: true, fwd: true }, 1, 2);
    try {
      await prefetch.offer(0, frames[0], W, H);
      await prefetch.offer(1, frames[1], W, H);
      await prefetch.offer(2, frames[2], W, H);
      assert.equal(prefetch.inFlight, 2);
      let offered = false;
      const third = prefetch.offer(3, frames[3], W, H).then(() => {
        offered = true;
      });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(offered, false, 'the third pair waits for room');
      await prefetch.ready(1);
      await third;
      assert.equal(prefetch.inFlight, 2, 'pairs 2 and 3');
      const fourth = prefetch.offer(4, frames[4], W, H);
      prefetch.close();
      await fourth;
      assert.equal(prefetch.deliveredPairs, 1);
    } finally {
      prefetch.close();
    }
  });

  it('one worker on a machine of two cores (the main thread and the encoder need them), up to four on larger ones', () => {
    assert.deepEqual([1, 2, 3, 4, 8, 16].map(flowWorkerCount), [1, 1, 1, 2, 4, 4]);
  });
});
