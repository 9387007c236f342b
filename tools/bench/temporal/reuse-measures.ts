/**
 * `npm run bench:reuse-measures [-- --width 960 --height 540 --frames 12 --rounds 5]`
 *
 * The reuse test's per-tile measures on the engine's main thread (issue 33), in TypeScript (tile-change.ts,
 * grain-gate.ts) and in WebAssembly (reuse-simd.ts), side by side in one run, rounds interleaved, CPU ms per frame
 * (the best round): the frame's luma plane and the scene-cut test ("luma+cut", change-mask.ts lumaOf(),
 * isSceneCut()), every tile's tileChange() in place ("levels"), and the grain allowance's measures with every tile's
 * shift from the flow ("grain"). Frames: cockatoo.mp4 (hand-held, python3-imageio) from frame 10, each against
 * the one before; the flows (MotionEstimator's, as the engine's) are computed before and not counted. Each round
 * checks that the two give the same numbers.
 */
import { parseArgs } from 'node:util';
import { isSceneCut, lumaOf } from '../../../src/engine/temporal/change-mask';
import { type GrainMeasures, grainMeasures } from '../../../src/engine/temporal/grain-gate';
import { MotionEstimator } from '../../../src/engine/temporal/motion';
import type { FlowField } from '../../../src/engine/temporal/optical-flow';
import { lumaHere, SimdReuse, sceneCutHere, TileMeasures } from '../../../src/engine/temporal/reuse-simd';
import { REUSE_DEFAULTS } from '../../../src/engine/temporal/reuse-upscaler';
import { TileShifts, tileChange } from '../../../src/engine/temporal/tile-change';
import { clipPath, decodeRgbFrames } from '../../models/calibrate';

const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

interface Side {
  /** The frame's luma plane and the scene-cut test against the previous one's. */
  planes(frame: Uint8Array, prevLuma: Uint8Array): Uint8Array;
  levels(frame: Uint8Array, ref: Uint8Array): Float32Array;
  grain(frame: Uint8Array, ref: Uint8Array, levels: Float32Array, shifts: TileShifts): GrainMeasures;
}

/** CPU ms per frame of each part, and the last frame's results (to compare the sides). */
function timeSide(side: Side, frames: Uint8Array[], flows: FlowField[], size: { width: number; height: number }) {
  const ms = { planes: 0, levels: 0, grain: 0 };
  const out: (Float32Array | Float64Array | Uint8Array)[] = [];
  const pixels = size.width * size.height;
  let prevLuma = lumaOf(frames[0], pixels);
  for (let i = 1; i < frames.length; i++) {
    let c = process.cpuUsage();
    prevLuma = side.planes(frames[i], prevLuma);
    ms.planes += cpuMs(c);
    c = process.cpuUsage();
    const levels = side.levels(frames[i], frames[i - 1]);
    ms.levels += cpuMs(c);
    const shifts = new TileShifts(() => flows[i], { ...size, tile: REUSE_DEFAULTS.tile });
    c = process.cpuUsage();
    const m = side.grain(frames[i], frames[i - 1], levels, shifts);
    ms.grain += cpuMs(c);
    out.push(prevLuma, levels, m.windows, m.residual, m.residualWindows, m.moved);
  }
  const n = frames.length - 1;
  return { planes: ms.planes / n, levels: ms.levels / n, grain: ms.grain / n, out };
}

function main(): void {
  const { values: v } = parseArgs({
    options: {
      width: { type: 'string' },
      height: { type: 'string' },
      frames: { type: 'string' },
      rounds: { type: 'string' },
    },
  });
  const [width, height] = [Number(v.width ?? 960), Number(v.height ?? 540)];
  const rounds = Number(v.rounds ?? 5);
  const vf = `select=gte(n\\,10),scale=${width}:${height}:flags=area`;
  const frames = decodeRgbFrames(clipPath('cockatoo.mp4'), vf, width, height, Number(v.frames ?? 12));
  const motion = new MotionEstimator();
  const lumas = frames.map((f) => lumaOf(f, width * height));
  const flows = frames.map((_, i) => motion.flow(lumas[i], lumas[Math.max(0, i - 1)], width, height));
  const size = { width, height };
  const t = REUSE_DEFAULTS.tile;
  const cuts: boolean[] = [];
  const ts: Side = {
    planes(frame, prevLuma) {
      const luma = lumaOf(frame, width * height);
      cuts.push(isSceneCut(luma, prevLuma));
      return luma;
    },
    levels(frame, ref) {
      const levels = new Float32Array(Math.ceil(width / t) * Math.ceil(height / t));
      for (let y = 0, i = 0; y < height; y += t)
        for (let x = 0; x < width; x += t, i++)
          levels[i] = tileChange(frame, ref, width, { x, y, w: Math.min(t, width - x), h: Math.min(t, height - y) });
      return levels;
    },
    grain: (frame, ref, levels, shifts) => grainMeasures(frame, ref, size, levels, shifts),
  };
  let last: TileMeasures | undefined;
  const simd: Side = {
    planes(frame, prevLuma) {
      const luma = lumaHere(frame, width * height);
      cuts.push(sceneCutHere(luma, prevLuma));
      return luma;
    },
    levels(frame, ref) {
      last = new TileMeasures(frame, ref, { ...size, tile: t });
      return last.levels();
    },
    grain: (_frame, _ref, levels, shifts) => (last as TileMeasures).grain(levels, shifts),
  };
  if (!SimdReuse.create()) throw new Error('WebAssembly SIMD is not available here');
  const none = () => ({ planes: Infinity, levels: Infinity, grain: Infinity });
  const best = { ts: none(), simd: none() };
  for (let r = 0; r < rounds + 1; r++) {
    const a = timeSide(ts, frames, flows, size);
    const b = timeSide(simd, frames, flows, size);
    const half = cuts.length / 2;
    const both = cuts.splice(0);
    if (both.some((cut, k) => k < half && cut !== both[k + half])) throw new Error(`round ${r}: a cut differs`);
    a.out.forEach((x, k) => {
      if (!Buffer.from(x.buffer).equals(Buffer.from(b.out[k].buffer)))
        throw new Error(`round ${r}: output ${k} differs`);
    });
    if (r === 0) continue; // V8 compiles the loops
    for (const [name, got] of [
      ['ts', a],
      ['simd', b],
    ] as const) {
      best[name].planes = Math.min(best[name].planes, got.planes);
      best[name].levels = Math.min(best[name].levels, got.levels);
      best[name].grain = Math.min(best[name].grain, got.grain);
    }
  }
  const row = (name: string, s: { planes: number; levels: number; grain: number }) =>
    `${name.padEnd(11)} luma+cut ${s.planes.toFixed(2).padStart(5)}  levels ${s.levels.toFixed(2).padStart(6)}  grain ${s.grain.toFixed(2).padStart(6)}  total ${(s.planes + s.levels + s.grain).toFixed(2).padStart(6)}\n`;
  process.stdout.write(
    `${width}x${height}, tile ${t}, ${frames.length - 1} pairs, best of ${rounds} rounds, CPU ms per frame (same numbers: checked)\n` +
      row('TypeScript', best.ts) +
      row('WebAssembly', best.simd),
  );
}

main();
