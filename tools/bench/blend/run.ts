/**
 * `npm run bench:blend -- [--size 960x540] [--frames 8] [--rounds 3] [--motion flow|off] [--strength medium] [--paths cpu,graph]`
 *
 * The temporal stage's per-output-pixel blend, typed arrays on the CPU against the ONNX graph (blend-graph.ts) on
 * the CPU provider, on the same real frames in one process: cockatoo.mp4 from frame 10 (a real hand-held camera),
 * the low-res input at --size and the "model output" the same frames at 4× that size (ffmpeg lanczos), so the
 * blend sees real motion. The stage runs over all frames once per path to warm up, then --rounds times, paths
 * interleaved frame by frame so a busy machine slows both alike. Prints per-frame stage time (median and best per
 * path), and how the graph's outputs compare with the CPU path's (bytes that differ, largest difference, PSNR),
 * plus a sha256 of each path's outputs.
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { FrameStage, PipelineFrame } from '../../../src/engine/pipeline/pipeline-types';
import { BlendGraph, type BlendPath } from '../../../src/engine/temporal/blend-graph';
import { blendPlannedOnCpu } from '../../../src/engine/temporal/blend-plan';
import { createTemporal } from '../../../src/engine/temporal/create';
import { MotionEstimator, type MotionMode } from '../../../src/engine/temporal/motion';
import type { TemporalStrength } from '../../../src/engine/temporal/strength';
import { TemporalStage } from '../../../src/engine/temporal/temporal-stage';
import { clipPath, decodeRgbFrames } from '../../models/calibrate';

const SCALE = 4;

function realFrames(width: number, height: number, count: number): PipelineFrame[] {
  const path = clipPath('cockatoo.mp4');
  const pick = `select=gte(n\\,10)`;
  const low = decodeRgbFrames(path, `${pick},scale=${width}:${height}:flags=area`, width, height, count);
  const ow = width * SCALE;
  const oh = height * SCALE;
  const high = decodeRgbFrames(path, `${pick},scale=${ow}:${oh}:flags=lanczos`, ow, oh, count);
  return low.map((input, index) => ({
    index,
    input: Buffer.from(input),
    inputSize: { width, height },
    output: Buffer.from(high[index]),
    outputSize: { width: ow, height: oh },
  }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '960x540' },
      frames: { type: 'string', default: '8' },
      rounds: { type: 'string', default: '3' },
      motion: { type: 'string', default: 'flow' },
      paths: { type: 'string', default: 'cpu' },
      strength: { type: 'string', default: 'medium' },
    },
  });
  const [width, height] = (values.size ?? '').split('x').map(Number);
  const frames = realFrames(width, height, Number(values.frames));
  const motion = values.motion as MotionMode;
  const paths = (values.paths ?? 'cpu').split(',');
  const parts = new Map(
    paths.map((p) => [
      p,
      createTemporal(
        { scale: SCALE, upscale: async () => Buffer.alloc(0) },
        { strength: values.strength as TemporalStrength, reuse: false, motion, blendPath: p as BlendPath },
      ),
    ]),
  );
  const times = new Map<string, number[]>(paths.map((p) => [p, []]));
  const outputs = new Map<string, Uint8Array[]>(paths.map((p) => [p, []]));
  // Round 0 warms up (JIT, graph sessions) and keeps the outputs; the rest are timed, paths interleaved per frame.
  for (let round = 0; round <= Number(values.rounds); round++) {
    for (const p of paths) parts.get(p)?.stage?.reset();
    for (const f of frames) {
      for (const p of paths) {
        const stage = parts.get(p)?.stages[0] as FrameStage;
        const t = performance.now();
        const out = await stage.process(f);
        if (round > 0 && f.index > 0) times.get(p)?.push(performance.now() - t);
        if (round === 0) outputs.get(p)?.push(out.output);
      }
    }
  }
  console.log(
    `${width}x${height} → ${width * SCALE}x${height * SCALE}, ${frames.length} frames, --motion ${motion}, --temporal ${values.strength}, ${values.rounds} rounds, load ${loadavg()[0].toFixed(1)}`,
  );
  for (const p of paths) {
    const t = times.get(p) ?? [];
    const hash = createHash('sha256');
    for (const o of outputs.get(p) ?? []) hash.update(o);
    const ms = t.length ? `median ${median(t).toFixed(1)} ms/frame, best ${Math.min(...t).toFixed(1)} ms` : 'untimed';
    console.log(`${p}: ${ms} (frames 1…), outputs sha256 ${hash.digest('hex').slice(0, 16)}`);
  }
  if (paths.includes('cpu') && paths.includes('graph'))
    await timeCarryOut(frames, motion, values.strength as TemporalStrength, Number(values.rounds));
  const cpu = outputs.get('cpu');
  const raw = frames.map((f) => f.output);
  if (cpu) console.log(`cpu against the raw outputs (what the blend changed): ${compare(cpu, raw)}`);
  for (const p of paths) if (p !== 'cpu' && cpu) console.log(`${p} against cpu: ${compare(outputs.get(p) ?? [], cpu)}`);
}

/**
 * The part that moves, alone: the same plans (TemporalStage.plan() over the frames once) carried out by the typed
 * arrays and by the graph on the CPU provider, interleaved plan by plan, `rounds` times after a warm-up round.
 */
async function timeCarryOut(frames: PipelineFrame[], motion: MotionMode, strength: TemporalStrength, rounds: number) {
  const stage = new TemporalStage({ strength, motion: motion === 'flow' ? new MotionEstimator() : undefined });
  const plans = frames.map((f) => ({ raw: f.output, planned: stage.plan(f) }));
  const graph = new BlendGraph(['cpu']);
  const cpu: number[] = [];
  const onGraph: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    for (const { raw, planned } of plans) {
      if (planned instanceof Uint8Array) continue;
      let t = performance.now();
      blendPlannedOnCpu(raw, planned);
      if (round > 0) cpu.push(performance.now() - t);
      t = performance.now();
      await graph.run(raw, planned);
      if (round > 0) onGraph.push(performance.now() - t);
    }
  }
  await graph.release();
  const line = (xs: number[]) => `median ${median(xs).toFixed(1)} ms, best ${Math.min(...xs).toFixed(1)} ms`;
  console.log(`per-output-pixel part alone (${cpu.length} blends): cpu ${line(cpu)}; graph ${line(onGraph)}`);
}

/** Bytes that differ, the largest difference and the PSNR over all frames. */
function compare(a: Uint8Array[], b: Uint8Array[]): string {
  let differ = 0;
  let total = 0;
  let max = 0;
  let se = 0;
  for (let f = 0; f < a.length; f++) {
    for (let i = 0; i < a[f].length; i++) {
      const d = a[f][i] - b[f][i];
      if (d !== 0) {
        differ++;
        se += d * d;
        if (Math.abs(d) > max) max = Math.abs(d);
      }
    }
    total += a[f].length;
  }
  const psnr = se === 0 ? 'inf' : (10 * Math.log10((255 * 255 * total) / se)).toFixed(1);
  return `${differ} of ${total} bytes differ (${((100 * differ) / total).toFixed(4)} %), max |Δ| ${max}, PSNR ${psnr} dB`;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
