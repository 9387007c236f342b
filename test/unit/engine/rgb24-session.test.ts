import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { TileUpscaler } from '../../../src/engine/inference/upscaler';
import { loadModel } from '../../../src/engine/model/loader';
import { writeNaturalPng } from '../reference/natural-image';
import { readPng } from '../reference/rgb';
import { FAST_MODEL_PATH, psnr } from './helpers';

const W = 96;
const H = 64;

/** The data path as it was before pixels moved into the graph: float planar 0..1 in JS, ×255 clamp round out. */
async function floatPathUpscale(session: ort.InferenceSession, rgb: Uint8Array, w: number, h: number) {
  const plane = w * h;
  const input = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) input[c * plane + i] = rgb[i * 3 + c] * (1 / 255);
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, h, w]) });
  const t = out[session.outputNames[0]].data as Float32Array;
  const op = plane * 16;
  const rgbOut = new Uint8ClampedArray(op * 3);
  for (let i = 0; i < op; i++) for (let c = 0; c < 3; c++) rgbOut[i * 3 + c] = t[c * op + i] * 255;
  return new Uint8Array(rgbOut.buffer);
}

describe('engine: rgb24 sessions (pre/post-processing in the graph), real ORT', function () {
  this.timeout(120_000);
  let frame: Uint8Array;
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'huaju4k-rgb24-'));
    const png = join(dir, 'natural.png');
    writeNaturalPng(png, W, H);
    frame = readPng(png, W, H).data;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the float path’s output within rounding (≥ 50 dB, ≥ 99.9 % of bytes equal), whole frame and tiled', async () => {
    const plain = await ort.InferenceSession.create(readFileSync(FAST_MODEL_PATH), { intraOpNumThreads: 2 });
    const model = await loadModel(FAST_MODEL_PATH, { intraOpNumThreads: 2 });
    try {
      const expected = await floatPathUpscale(plain, frame, W, H);
      const whole = await new TileUpscaler(model, { tile: 0, pad: 12 }).upscale(frame, W, H);
      assert.equal(whole.length, expected.length);
      let same = 0;
      for (let i = 0; i < whole.length; i++) if (whole[i] === expected[i]) same++;
      const db = psnr(whole, expected);
      console.log(`      rgb24 session vs float path: ${db.toFixed(2)} dB, ${same} of ${whole.length} bytes equal`);
      assert.ok(db >= 50, `${db.toFixed(2)} dB`);
      assert.ok(same >= whole.length * 0.999, `${same} of ${whole.length} bytes equal`);
      // Tiles with 12 px of context, stitched by row copies: the same pixels as the whole frame, up to seam noise.
      const tiled = await new TileUpscaler(model, { tile: 32, pad: 12 }).upscale(frame, W, H);
      const seam = psnr(tiled, whole);
      assert.ok(seam >= 45, `tiled vs whole frame: ${seam.toFixed(2)} dB`);
    } finally {
      await plain.release();
      await model.session.release();
    }
  });

  it('reuses a released output frame: onnxruntime writes into it (pre-allocated output), same pixels', async () => {
    const model = await loadModel(FAST_MODEL_PATH, { intraOpNumThreads: 2 });
    try {
      const up = new TileUpscaler(model, { tile: 0, pad: 12 });
      const first = await up.upscale(frame, W, H);
      const copy = Buffer.from(first);
      first.fill(7);
      up.release(first);
      const second = await up.upscale(frame, W, H);
      assert.equal(second.buffer, first.buffer, 'the released frame came back');
      assert.ok(second.equals(copy), 'and holds the model output again, not the scribbled bytes');
      await assert.rejects(up.upscale(frame.subarray(3), W, H), /bytes, expected/);
    } finally {
      await model.session.release();
    }
  });
});
