import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { lumaOf } from '../../../src/engine/temporal/change-mask';
import { MotionEstimator, type MotionLink } from '../../../src/engine/temporal/motion';
import { type PastFrame, warpedPasts } from '../../../src/engine/temporal/motion-blend';
import { temporalParams } from '../../../src/engine/temporal/strength';
import { WarpWorker } from '../../../src/engine/temporal/warp-worker';
import { ROOT } from '../engine/helpers';
import { texture } from './frames';

const [W, H, SCALE] = [64, 40, 2];

/** Four frames of a texture moving 1 px right per frame, with their links (newest first), as the stage holds them. */
function movingHistory() {
  const motion = new MotionEstimator();
  const base = texture(W + 8, H, 3);
  const frame = (dx: number) => {
    const rgb = Buffer.alloc(W * H * 3);
    for (let y = 0; y < H; y++) base.copy(rgb, y * W * 3, (y * (W + 8) + 4 - dx) * 3, (y * (W + 8) + 4 - dx + W) * 3);
    return lumaOf(rgb, W * H);
  };
  const lumas = [0, 1, 2, 3].map(frame);
  const links: MotionLink[] = [3, 2, 1].map((t) => motion.link(lumas[t], lumas[t - 1], W, H));
  const pasts: PastFrame[] = [2, 1, 0].map((t) => ({
    luma: lumas[t],
    output: new Uint8Array(W * SCALE * H * SCALE * 3),
  }));
  return { cur: lumas[3], pasts, links };
}

describe('temporal/warp-worker: the motion blend’s low-res plan in a worker thread (issue 33)', function () {
  this.timeout(60000);

  it('gives the numbers warpedPasts() gives in-thread, each with its past output', async () => {
    const { cur, pasts, links } = movingHistory();
    const size = { width: W, height: H, scale: SCALE };
    const t = temporalParams('high');
    const here = warpedPasts(cur, pasts, links, size, t);
    const warps = new WarpWorker();
    try {
      const there = await warps.warpedPasts(cur, pasts, links, size, t);
      assert.equal(warps.delivered, 1, 'from the worker, not the in-thread fallback');
      assert.equal(there.length, here.length);
      assert.ok(
        here.some((p) => p.ox.some((o) => o !== 0)),
        'the motion is followed (non-zero offsets)',
      );
      for (let k = 0; k < here.length; k++) {
        assert.deepEqual(there[k].weight, here[k].weight, `past ${k} weights`);
        assert.deepEqual([there[k].ox, there[k].oy], [here[k].ox, here[k].oy], `past ${k} offsets`);
        assert.equal(there[k].output, pasts[k].output);
      }
      // Closed, it computes in-thread: the same numbers, nothing delivered by a worker.
      warps.close();
      const after = await new WarpWorker().warpedPasts(cur, pasts, links, size, t);
      assert.deepEqual(
        after.map((p) => p.weight),
        here.map((p) => p.weight),
      );
    } finally {
      warps.close();
    }
  });

  it('several workers plan consecutive frames side by side, each answer its own frame’s numbers', async () => {
    const { cur, pasts, links } = movingHistory();
    const size = { width: W, height: H, scale: SCALE };
    // Five requests that differ (how many pasts, which strength), asked at once of three workers.
    const asks = [1, 2, 3, 2, 3].map((m, i) => ({ m, t: temporalParams(i % 2 ? 'high' : 'medium') }));
    const warps = new WarpWorker(3);
    try {
      const there = await Promise.all(
        asks.map(({ m, t }) => warps.warpedPasts(cur, pasts.slice(0, m), links.slice(0, m), size, t)),
      );
      assert.equal(warps.delivered, asks.length, 'every plan from a worker');
      for (const [i, { m, t }] of asks.entries()) {
        const here = warpedPasts(cur, pasts.slice(0, m), links.slice(0, m), size, t);
        assert.deepEqual(
          there[i].map((p) => [p.weight, p.ox, p.oy]),
          here.map((p) => [p.weight, p.ox, p.oy]),
          `request ${i}`,
        );
      }
    } finally {
      warps.close();
    }
  });
});

describe('temporal/warp-worker: the workers never hold their process (issue 33)', function () {
  this.timeout(60000);

  for (const count of [1, 2])
    it(`a run that never closes it still ends: its ${count} worker(s) do not hold the process`, () => {
      // Before the fix its port was referenced again by the 'message' listener added after unref(): the process
      // (a test run, the engine) waited forever once its work was done. With two workers, each is let go when it
      // owes nothing, not when nothing is owed by all.
      const script = `
      const { WarpWorker } = require(${JSON.stringify(join(ROOT, 'src/engine/temporal/warp-worker.ts'))});
      const { temporalParams } = require(${JSON.stringify(join(ROOT, 'src/engine/temporal/strength.ts'))});
      const n = 16 * 8;
      const luma = new Uint8Array(n).fill(90);
      const link = { back: { width: 16, height: 8, u: new Float32Array(n), v: new Float32Array(n) }, consistent: new Uint8Array(n).fill(1), region: undefined };
      const w = new WarpWorker(${count});
      const ask = () => w.warpedPasts(luma, [{ luma, output: new Uint8Array(0) }], [link], { width: 16, height: 8, scale: 2 }, temporalParams('medium'));
      Promise.all([ask(), ask()]).then((r) => console.log('planned', r.length, w.delivered));`;
      const r = spawnSync(process.execPath, ['-e', script], {
        env: {
          ...process.env,
          NODE_OPTIONS: `--import=${pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href}`,
        },
        encoding: 'utf8',
        timeout: 30000,
      });
      assert.equal(r.signal, null, `the process had to be killed: ${r.stderr}`);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'planned 2 2');
    });
});
