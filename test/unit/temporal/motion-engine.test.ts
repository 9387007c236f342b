import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TileUpscaler } from '../../../src/engine/inference/upscaler';
import { type LoadedModel, loadModel } from '../../../src/engine/model/loader';
import type { PipelineFrame } from '../../../src/engine/pipeline/pipeline-types';
import { createTemporal, type TemporalSettings } from '../../../src/engine/temporal/create';
import { primeForResume, primeStartFor } from '../../../src/engine/temporal/resume-prime';
import { writeNaturalPng } from '../reference/natural-image';
import { realPanFrames } from './frames';

const FAST_MODEL = 'realesr-animevideov3-x4';
const W = 64;
const H = 36;
const S = 4;

const realPan = (png: string, frames: number, step: [number, number]) =>
  realPanFrames(png, { width: W, height: H, frames, step, noise: 1 });

/** Mean |outₜ − outₜ₋₁ moved by the known pan| over the part both show: frame-to-frame error along the true motion. */
function panError(outs: Buffer[], step: [number, number]): number {
  const ow = W * S;
  const oh = H * S;
  const [dx, dy] = [step[0] * S, step[1] * S];
  let sum = 0;
  let n = 0;
  for (let t = 1; t < outs.length; t++) {
    for (let y = 0; y < oh - dy; y++) {
      for (let x = 0; x < ow - dx; x++) {
        for (let c = 0; c < 3; c++)
          sum += Math.abs(outs[t][(y * ow + x) * 3 + c] - outs[t - 1][((y + dy) * ow + x + dx) * 3 + c]);
        n += 3;
      }
    }
  }
  return sum / n;
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return se === 0 ? 99 : 10 * Math.log10((255 * 255 * a.length) / se);
}

describe('temporal: following motion, with the real model', function () {
  this.timeout(240000);
  let model: LoadedModel;
  let dir: string;
  let png: string;
  before(async () => {
    model = await loadModel(FAST_MODEL, { intraOpNumThreads: 1 });
    dir = mkdtempSync(join(tmpdir(), 'huaju4k-motion-'));
    png = join(dir, 'real.png');
    writeNaturalPng(png, 640, 480);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const size = { width: W, height: H };
  const make = (s: Partial<TemporalSettings>) =>
    createTemporal(new TileUpscaler(model, { tile: 0, pad: 12 }), { strength: 'medium', reuse: false, ...s });
  async function run(parts: ReturnType<typeof make>, frames: Buffer[], from = 0): Promise<Buffer[]> {
    const outs: Buffer[] = [];
    for (let i = from; i < frames.length; i++) {
      const output = await parts.upscaler.upscale(frames[i], W, H);
      let f: PipelineFrame = {
        index: i,
        input: frames[i],
        inputSize: size,
        output,
        outputSize: { width: W * S, height: H * S },
      };
      for (const st of parts.stages) f = await st.process(f);
      outs.push(f.output);
    }
    return outs;
  }

  it('on a pan, the warped blend cuts the frame-to-frame error along the motion well below the static blend', async () => {
    const step: [number, number] = [1, 1];
    const frames = realPan(png, 8, step);
    const perFrame = await run(make({ strength: 'off' }), frames);
    const still = await run(make({ motion: 'off' }), frames);
    const flow = await run(make({ motion: 'flow' }), frames);
    const e = { perFrame: panError(perFrame, step), still: panError(still, step), flow: panError(flow, step) };
    assert.ok(e.flow < 0.85 * e.still && e.flow < 0.7 * e.perFrame, `warped blend: ${JSON.stringify(e)}`);
    for (let i = 0; i < frames.length; i++) {
      const p = psnr(flow[i], perFrame[i]);
      assert.ok(p > 33, `frame ${i}: ${p.toFixed(1)} dB from per-frame (the blend keeps the model's picture)`);
    }
  });

  it('a scene cut drops the history: the first frame of the new shot is the model output itself', async () => {
    const frames = realPan(png, 6, [1, 0]);
    frames[4] = Buffer.from(frames[4].map((v) => 255 - v));
    const parts = make({ motion: 'flow' });
    const perFrame = await run(make({ strength: 'off' }), frames);
    const outs = await run(parts, frames);
    assert.ok(outs[4].equals(perFrame[4]), 'nothing blended across the cut');
    assert.ok(!outs[3].equals(perFrame[3]), 'blended before the cut');
    assert.equal(parts.stage?.sceneCuts, 2, 'into the inverted frame and back out');
  });

  it('resume after a pan (reuse + warped blend) is byte-identical to an uninterrupted run', async () => {
    const frames = realPan(png, 12, [1, 0]);
    const settings: Partial<TemporalSettings> = { strength: 'high', reuse: true, reuseOptions: { refreshEvery: 5 } };
    const whole = make(settings);
    const expected = await run(whole, frames);
    assert.ok((whole.reuse?.shiftedTiles ?? 0) > 0, 'the pan was served partly by shifted tiles');
    for (const resume of [3, 6, 9]) {
      const parts = make(settings);
      const start = primeStartFor(resume, parts);
      const it = (async function* () {
        for (const data of frames.slice(start)) yield { data };
      })();
      assert.equal(await primeForResume(it, start, resume, size, parts), resume - start);
      const got = await run(parts, frames, resume);
      for (let i = 0; i < got.length; i++)
        assert.ok(got[i].equals(expected[resume + i]), `resume at ${resume}: frame ${resume + i} differs`);
    }
  });
});
