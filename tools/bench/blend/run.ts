/**
 * `npx tsx tools/bench/blend/run.ts [--size 960x540] [--frames 8] [--rounds 3] [--motion flow|off] [--strength medium] [--paths cpu,graph]`
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
import { createTemporal } from '../../../src/engine/temporal/create';
import type { MotionMode } from '../../../src/engine/temporal/motion';
import type { TemporalStrength } from '../../../src/engine/temporal/strength';
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
  const stageFor = (): FrameStage => {
    const parts = createTemporal(
      { scale: SCALE, upscale: async () => Buffer.alloc(0) },
      {
        strength: values.strength as TemporalStrength,
        reuse: false,
        motion,
      },
    );
    return parts.stages[0];
  };
  const times = new Map<string, number[]>(paths.map((p) => [p, []]));
  const outputs = new Map<string, Uint8Array[]>();
  for (let round = 0; round <= Number(values.rounds); round++) {
    const stages = new Map(paths.map((p) => [p, stageFor()]));
    for (const f of frames) {
      for (const p of paths) {
        const t = performance.now();
        const out = await (stages.get(p) as FrameStage).process(f);
        if (round > 0) times.get(p)?.push(performance.now() - t);
        if (round === 0) outputs.set(p, [...(outputs.get(p) ?? []), out.output]);
      }
    }
  }
  console.log(
    `${width}x${height} → ${width * SCALE}x${height * SCALE}, ${frames.length} frames, --motion ${motion}, --temporal ${values.strength}, load ${loadavg()[0].toFixed(1)}`,
  );
  for (const p of paths) {
    const t = times.get(p) ?? [];
    const hash = createHash('sha256');
    for (const o of outputs.get(p) ?? []) hash.update(o);
    const ms = t.length ? `median ${median(t).toFixed(1)} ms/frame, best ${Math.min(...t).toFixed(1)} ms` : 'untimed';
    console.log(`${p}: ${ms}, outputs sha256 ${hash.digest('hex').slice(0, 16)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
