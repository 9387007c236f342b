/**
 * `npm run bench -- --int8 [--models a,b] [--sizes 480x270,960x540] [--frames n] [--rounds n] [--threads n]`
 *
 * int8 vs fp32 on the CPU, same frames, one process: for each model and input size, the fp32 model and its verified
 * int8 variant (loaded as the engine loads them) upscale the same real frames (cockatoo.mp4 scaled to the size),
 * whole frame, alternating frame by frame, so a busy machine slows both alike. Reports fps of each and their ratio
 * (total time, and best-of per frame, which a noisy neighbour disturbs least), with the load average.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { TileUpscaler } from '../../../src/engine/inference/upscaler';
import { type LoadedModel, loadModel } from '../../../src/engine/model/loader';
import { truthFrames } from '../../../test/unit/model/real-frames';

interface Row {
  model: string;
  size: string;
  frames: number;
  fp32Fps: number;
  int8Fps: number;
  ratio: number;
  bestRatio: number;
}

const GOAL = 1.8;

async function timeOne(up: TileUpscaler, frame: Uint8Array, w: number, h: number): Promise<number> {
  const t = performance.now();
  await up.upscale(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), w, h);
  return (performance.now() - t) / 1000;
}

async function benchSize(models: LoadedModel[], size: string, frames: number, rounds: number): Promise<Row> {
  const [w, h] = size.split('x').map(Number);
  const clip = truthFrames('cockatoo.mp4', `not(mod(n\\,${Math.floor(280 / frames)}))`, w * 4, h * 4);
  const input = clip.input.slice(0, frames);
  const ups = models.map((m) => new TileUpscaler(m, { tile: 0, pad: 12 }));
  for (const up of ups) await timeOne(up, input[0], w, h); // warm-up: ORT plans memory for the new shape
  const total = [0, 0];
  const best = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  for (let r = 0; r < rounds; r++) {
    for (const f of input) {
      for (let k = 0; k < 2; k++) {
        const s = await timeOne(ups[(k + r) % 2], f, w, h); // alternate who goes first
        total[(k + r) % 2] += s;
        best[(k + r) % 2] = Math.min(best[(k + r) % 2], s);
      }
    }
  }
  const n = input.length * rounds;
  return {
    model: models[0].id,
    size,
    frames: n,
    fp32Fps: n / total[0],
    int8Fps: n / total[1],
    ratio: total[0] / total[1],
    bestRatio: best[0] / best[1],
  };
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      int8: { type: 'boolean' },
      models: { type: 'string', default: 'realesr-animevideov3-x4,realesr-general-x4v3' },
      sizes: { type: 'string', default: '480x270,960x540' },
      frames: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '2' },
      threads: { type: 'string' },
    },
  });
  const threads = v.threads ? Number(v.threads) : undefined;
  const rows: Row[] = [];
  const load0 = loadavg()[0];
  for (const id of (v.models ?? '').split(',')) {
    const models = [
      await loadModel(id, { intraOpNumThreads: threads }),
      await loadModel(id, { intraOpNumThreads: threads, precision: 'int8' }),
    ];
    for (const size of (v.sizes ?? '').split(',')) {
      const row = await benchSize(models, size, Number(v.frames), Number(v.rounds));
      process.stderr.write(`  ${row.model} ${row.size}: ratio ${row.ratio.toFixed(2)}\n`);
      rows.push(row);
    }
    for (const m of models) await m.session.release();
  }
  console.log(
    `int8 vs fp32 on the CPU (onnxruntime CPU EP), whole frames, load average ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}`,
  );
  console.log('| model | input | frames | fp32 fps | int8 fps | int8 ÷ fp32 | best-frame ratio |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const f = (x: number) => x.toFixed(3);
    console.log(
      `| ${r.model} | ${r.size} | ${r.frames} | ${f(r.fp32Fps)} | ${f(r.int8Fps)} | ${r.ratio.toFixed(2)} | ${r.bestRatio.toFixed(2)} |`,
    );
  }
  const pass = rows.every((r) => r.ratio >= GOAL);
  console.log(`goal int8 ÷ fp32 ≥ ${GOAL} on every row: ${pass ? 'met' : 'NOT met'}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench --int8: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
