/**
 * `npm run bench:warp -- [--size 960x540] [--pasts 3] [--scale 4] [--calls 15] [--strength medium] [--base /other/checkout]`
 *
 * The motion blend's low-res plan alone (issue 33): warpedPasts() in WebAssembly (warp-simd.ts) on real frames,
 * cockatoo.mp4 from frame 10 (a real hand-held camera) at --size, with the flows MotionEstimator finds between them
 * (the history the stage holds at the last frame, newest first). Prints CPU ms per call (median and best of --calls),
 * with --base the same for another checkout's warp-simd.ts (its own module), calls interleaved so a busy machine
 * slows both alike, and whether both give the same numbers (and the TypeScript function's, timed once).
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { lumaOf } from '../../../src/engine/temporal/change-mask';
import { MotionEstimator, type MotionLink } from '../../../src/engine/temporal/motion';
import { type PastFrame, type WarpedPast, warpedPasts } from '../../../src/engine/temporal/motion-blend';
import { type TemporalStrength, temporalParams } from '../../../src/engine/temporal/strength';
import { SimdWarp } from '../../../src/engine/temporal/warp-simd';
import { clipPath, decodeRgbFrames } from '../../models/calibrate';

type Plan = (...args: Parameters<typeof warpedPasts>) => WarpedPast[];

function history(w: number, h: number, m: number) {
  const vf = `select=gte(n\\,10),scale=${w}:${h}:flags=area`;
  const lumas = decodeRgbFrames(clipPath('cockatoo.mp4'), vf, w, h, m + 1).map((rgb) => lumaOf(rgb, w * h));
  const motion = new MotionEstimator();
  const pasts: PastFrame[] = [];
  const links: MotionLink[] = [];
  for (let k = 0; k < m; k++) {
    pasts.push({ luma: lumas[m - 1 - k], output: new Uint8Array(0) });
    links.push(motion.link(lumas[m - k], lumas[m - 1 - k], w, h));
  }
  return { cur: lumas[m], pasts, links };
}

function same(a: WarpedPast[], b: WarpedPast[]): boolean {
  const eq = (x: ArrayLike<number>, y: ArrayLike<number>) =>
    x.length === y.length && Array.prototype.every.call(x, (v: number, i: number) => Object.is(v, y[i]));
  return (
    a.length === b.length && a.every((p, k) => eq(p.weight, b[k].weight) && eq(p.ox, b[k].ox) && eq(p.oy, b[k].oy))
  );
}

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `median ${s[s.length >> 1].toFixed(1)} ms, best ${s[0].toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '960x540' },
      pasts: { type: 'string', default: '3' },
      scale: { type: 'string', default: '4' },
      calls: { type: 'string', default: '15' },
      strength: { type: 'string', default: 'medium' },
      base: { type: 'string' },
    },
  });
  const [w, h] = values.size.split('x').map(Number);
  const { cur, pasts, links } = history(w, h, Number(values.pasts));
  const size = { width: w, height: h, scale: Number(values.scale) };
  const t = temporalParams(values.strength as TemporalStrength);
  const paths: [string, Plan][] = [];
  const here = SimdWarp.create();
  if (!here) throw new Error('WebAssembly is not available');
  paths.push(['this checkout', (...a) => here.warpedPasts(...a)]);
  if (values.base) {
    const mod = (await import(join(values.base, 'src/engine/temporal/warp-simd.ts'))) as { SimdWarp: typeof SimdWarp };
    const base = mod.SimdWarp.create();
    if (!base) throw new Error('the base has no module');
    paths.push([values.base, (...a) => base.warpedPasts(...a)]);
  }
  const t0 = performance.now();
  const want = warpedPasts(cur, pasts, links, size, t);
  const tsMs = performance.now() - t0;
  const ms: number[][] = paths.map(() => []);
  for (let i = 0; i < Number(values.calls); i++)
    paths.forEach(([, plan], j) => {
      // CPU time of this process (one thread runs the kernel): steadier than wall time on a shared machine.
      const s = process.cpuUsage();
      plan(cur, pasts, links, size, t);
      const d = process.cpuUsage(s);
      ms[j].push((d.user + d.system) / 1000);
    });
  const regions = links.map((l) => (l.region ? `${l.region.w}×${l.region.h}` : 'none')).join(', ');
  console.log(`${w}×${h} ×${size.scale}, ${pasts.length} pasts (regions ${regions}), load ${loadavg()[0].toFixed(1)}`);
  console.log(`TypeScript: ${tsMs.toFixed(1)} ms (one call)`);
  paths.forEach(([name, plan], j) => {
    const ok = same(plan(cur, pasts, links, size, t), want);
    console.log(`${name}: ${stats(ms[j])}; ${ok ? 'the same numbers as TypeScript' : 'DIFFERENT numbers'}`);
  });
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
