// Compares the int8 forms of a model's PRelus (docs/dev/models.md "int8 variants"): 'float' (today's variant: PRelu in
// float between DequantizeLinear and QuantizeLinear), 'relu-split' and 'relu-concat' (src/engine/model/relu-split.ts:
// no float op between the Convs). Each form is calibrated on the real calibration frames, then measured for quality
// (the frames and gates of test/unit/model/int8.test.ts) and speed against fp32 (same input, same process, rounds
// alternating). Usage: npx tsx tools/models/int8-forms.ts <model id> [--sizes 480x270,960x540] [--rounds 5]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { toInt8Model } from '../../src/engine/model/int8';
import { INT8_FORM } from '../../src/engine/model/int8-variant';
import { truthFrames, upscaleRgb } from '../../test/unit/model/real-frames';
import { psnr } from '../quality/metrics';
import { calibrate, calibrationFrames } from './calibrate';
import { fuseReluConcat, splitPrelu, tieConcatRanges } from './relu-split';

const repoModels = join(__dirname, '..', '..', 'models');
const log = (s: string) => process.stdout.write(`${s}\n`);
const load = () => loadavg()[0].toFixed(1);
const session = (bytes: Uint8Array) =>
  ort.InferenceSession.create(bytes, { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });

/** The int8 model of each form, calibrated on the calibration frames (minutes per form). */
async function buildForms(fp32: Uint8Array): Promise<[string, Uint8Array][]> {
  const frames = calibrationFrames();
  const split = splitPrelu(fp32, 'split');
  const cat = splitPrelu(fp32, 'concat');
  const qop = { ...INT8_FORM, format: 'qoperator' } as const;
  return [
    ['float', toInt8Model(fp32, await calibrate(fp32, frames), INT8_FORM)],
    ['relu-split', toInt8Model(split, await calibrate(split, frames), INT8_FORM)],
    ['relu-concat', fuseReluConcat(toInt8Model(cat, tieConcatRanges(cat, await calibrate(cat, frames)), qop))],
  ];
}

async function quality(fp32: ort.InferenceSession, name: string, int8: ort.InferenceSession): Promise<void> {
  const clips = [
    truthFrames('cockatoo.mp4', 'eq(n\\,17)+eq(n\\,122)+eq(n\\,227)', 640, 360),
    truthFrames('realshort.mp4', 'eq(n\\,5)+eq(n\\,29)', 320, 240),
  ];
  let [worst, dTruth, n] = [Number.POSITIVE_INFINITY, 0, 0];
  for (const c of clips) {
    for (let i = 0; i < c.input.length; i++) {
      const a = await upscaleRgb(fp32, c.input[i], c.width / 4, c.height / 4);
      const b = await upscaleRgb(int8, c.input[i], c.width / 4, c.height / 4);
      worst = Math.min(worst, psnr(a, b));
      dTruth += psnr(b, c.truth[i]) - psnr(a, c.truth[i]);
      n++;
    }
  }
  log(
    `${name}: int8 vs fp32 worst frame ${worst.toFixed(2)} dB (gate ≥ 40); vs ground truth ${(dTruth / n).toFixed(3)} dB against fp32 (gate ≥ −0.3)`,
  );
}

async function speed(sessions: [string, ort.InferenceSession][], w: number, h: number, rounds: number) {
  const x = new ort.Tensor(
    'float32',
    new Float32Array(3 * w * h).map((_, i) => ((i * 7919) % 255) / 255),
    [1, 3, h, w],
  );
  const ms = sessions.map(() => [] as number[]);
  const before = load();
  for (let r = -1; r < rounds; r++) {
    for (const [i, [, s]] of sessions.entries()) {
      const t = performance.now();
      await s.run({ [s.inputNames[0]]: x });
      if (r >= 0) ms[i].push(performance.now() - t); // round −1 warms up
    }
  }
  const ratios = (i: number) => ms[0].map((t, r) => t / ms[i][r]).sort((a, b) => a - b);
  for (const [i, [name]] of sessions.entries()) {
    if (i === 0) continue;
    const q = ratios(i);
    log(
      `${w}x${h} ${name}: int8 ÷ fp32 median ${q[q.length >> 1].toFixed(2)} (rounds ${q[0].toFixed(2)}–${q[q.length - 1].toFixed(2)}), best times fp32 ${Math.min(...ms[0]).toFixed(0)} ms / int8 ${Math.min(...ms[i]).toFixed(0)} ms; load ${before} → ${load()}`,
    );
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { sizes: { type: 'string', default: '480x270,960x540' }, rounds: { type: 'string', default: '5' } },
  });
  const id = positionals[0] ?? 'realesr-animevideov3-x4';
  const fp32 = readFileSync(join(repoModels, `${id}.onnx`));
  const forms = await buildForms(fp32);
  const sessions: [string, ort.InferenceSession][] = [['fp32', await session(fp32)]];
  for (const [name, bytes] of forms) sessions.push([name, await session(bytes)]);
  for (const [name, s] of sessions.slice(1)) await quality(sessions[0][1], name, s);
  for (const size of (values.sizes ?? '').split(',')) {
    const [w, h] = size.split('x').map(Number);
    await speed(sessions, w, h, Number(values.rounds));
  }
  for (const [, s] of sessions) await s.release();
}

main().catch((err: unknown) => {
  process.stderr.write(`int8-forms: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
