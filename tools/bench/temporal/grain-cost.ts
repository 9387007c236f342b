/**
 * `npm run bench:grain-cost [-- --model realesr-general-x4v3 --rounds 2]`
 *
 * What the reuse's grain allowance (temporal/grain-gate.ts, issue 31) costs per frame at 480×270 against the
 * model's own time there, both in CPU ms on this thread (ORT on one intra-op thread, as `npm run quality
 * --threads 1`). Frames: people-grain's real grainy input (tools/quality/clips.ts) tiled to 480×270, so the grain is
 * the clip's. The flow the measures read is not counted: the reuse computed it for these frames before (every tile
 * of a grainy frame fails the plain test, and each changed tile asks the flow for its shift).
 */
import { parseArgs } from 'node:util';
import { TileUpscaler } from '../../../src/engine/inference/upscaler';
import { loadModel } from '../../../src/engine/model/loader';
import { lumaOf } from '../../../src/engine/temporal/change-mask';
import { GrainGate, grainMeasures } from '../../../src/engine/temporal/grain-gate';
import { MotionEstimator } from '../../../src/engine/temporal/motion';
import type { FlowField } from '../../../src/engine/temporal/optical-flow';
import { REUSE_DEFAULTS } from '../../../src/engine/temporal/reuse-upscaler';
import { TileShifts, tileChange } from '../../../src/engine/temporal/tile-change';
import { loadClip } from '../../quality/clips';

const W = 480;
const H = 270;

/** `src` (sw×sh RGB24) repeated over a W×H frame. */
function tiled(src: Uint8Array, sw: number, sh: number): Buffer {
  const out = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      out.set(src.subarray(((y % sh) * sw + (x % sw)) * 3, ((y % sh) * sw + (x % sw)) * 3 + 3), (y * W + x) * 3);
  return out;
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

async function main(): Promise<void> {
  const { values: v } = parseArgs({ options: { model: { type: 'string' }, rounds: { type: 'string' } } });
  const rounds = Number(v.rounds ?? 2);
  const clip = loadClip('people-grain', 24);
  const frames = clip.input.map((f) => tiled(f, clip.width / 4, clip.height / 4));
  const t = REUSE_DEFAULTS.tile;
  const cols = Math.ceil(W / t);
  const tiles = cols * Math.ceil(H / t);
  const motion = new MotionEstimator();
  const lumas = frames.map((f) => lumaOf(f, W * H));
  const flows = frames.map((_, i) => (i ? motion.flow(lumas[i], lumas[i - 1], W, H) : undefined));
  const levels = frames.map((f, i) => {
    const l = new Float32Array(tiles);
    if (i)
      for (let k = 0; k < tiles; k++) {
        const c = k % cols;
        const r = (k - c) / cols;
        l[k] = tileChange(f, frames[i - 1], W, {
          x: c * t,
          y: r * t,
          w: Math.min(t, W - c * t),
          h: Math.min(t, H - r * t),
        });
      }
    return l;
  });
  const gate = async () => {
    const g = new GrainGate(REUSE_DEFAULTS.threshold);
    let engaged = 0;
    for (let i = 1; i < frames.length; i++) {
      if (!g.engaged(levels[i])) continue;
      engaged++;
      const shifts = new TileShifts(() => flows[i] as FlowField, { width: W, height: H, tile: t });
      g.still(grainMeasures(frames[i], frames[i - 1], { width: W, height: H }, levels[i], shifts));
    }
    return engaged;
  };
  await gate(); // V8 compiles the loops
  let gateMs = Number.POSITIVE_INFINITY;
  let engaged = 0;
  for (let r = 0; r < rounds; r++) {
    const c = process.cpuUsage();
    engaged = await gate();
    gateMs = Math.min(gateMs, cpuMs(c) / (frames.length - 1));
  }
  const model = await loadModel(v.model ?? 'realesr-general-x4v3', { intraOpNumThreads: 1 });
  const up = new TileUpscaler(model, { tile: 0, pad: 12 });
  await up.upscale(frames[0], W, H); // ORT's first run on a new size
  let modelMs = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const c = process.cpuUsage();
    await up.upscale(frames[1 + r], W, H);
    modelMs = Math.min(modelMs, cpuMs(c));
  }
  await model.session.release();
  process.stdout.write(
    `480x270, people-grain's grain: grain allowance ${gateMs.toFixed(1)} CPU ms/frame (engaged on ${engaged}/${frames.length - 1} frames), model ${model.id} ${modelMs.toFixed(0)} CPU ms/frame (1 thread): ${((100 * gateMs) / modelMs).toFixed(1)} % of the model's time\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
