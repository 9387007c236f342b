import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../../src/engine/model/loader';
import {
  ensureReferenceTools,
  lavapipeIcd,
  type ReferenceTools,
  runReferenceUpscale,
} from '../../../tools/models/reference';
import { writeNaturalPng } from './natural-image';
import { compareWithReference, readPng, upscaleLikeReference } from './rgb';

// Conversion correctness: our ONNX models through onnxruntime-node against the original realesrgan-ncnn-vulkan
// (fp16 arithmetic on lavapipe) on a natural image. A correct conversion agrees to ~56–59 dB; any wrong layer
// mapping (padding, pixel-shuffle order, slopes, resize mode) falls far below 40 dB.

const WIDTH = 64;
const HEIGHT = 48;
const SCALE = 4;
/** realesrgan-ncnn-vulkan pre-pads every tile by 10 px (model dirs named "models"). */
const PREPADDING = 10;
const MIN_PSNR_DB = 50;

describe('reference: ONNX models vs realesrgan-ncnn-vulkan (lavapipe)', function () {
  this.timeout(600_000);
  let dir: string;
  let tools: ReferenceTools;
  let inputPng: string;

  before(() => {
    if (!lavapipeIcd())
      throw new Error('Mesa lavapipe missing: apt-get install mesa-vulkan-drivers libvulkan1 libgomp1');
    dir = mkdtempSync(join(tmpdir(), 'huaju4k-reference-'));
    tools = ensureReferenceTools((line) => console.log(`      ${line}`));
    inputPng = join(dir, 'natural.png');
    const clip = writeNaturalPng(inputPng, WIDTH, HEIGHT);
    console.log(`      test image: ${WIDTH}×${HEIGHT} from ${clip}`);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const id of ['realesr-animevideov3-x4', 'realesr-general-x4v3']) {
    it(`${id} agrees with the reference to ≥ ${MIN_PSNR_DB} dB`, async () => {
      const refPng = join(dir, `${id}.png`);
      await runReferenceUpscale(tools, id, inputPng, refPng, SCALE);
      const ref = readPng(refPng, WIDTH * SCALE, HEIGHT * SCALE);

      const model = await loadModel(id, { intraOpNumThreads: 2 });
      try {
        assert.equal(model.scale, SCALE);
        const ours = await upscaleLikeReference(model.session, readPng(inputPng, WIDTH, HEIGHT), SCALE, PREPADDING);
        const a = compareWithReference(ours, ref);
        console.log(
          `      reference ${id}: ${a.psnrDb.toFixed(2)} dB, max abs diff ${a.maxAbsDiff}, ` +
            `${a.compared} values compared, ${a.masked} masked (lavapipe negative→255)`,
        );
        assert.ok(a.masked < a.compared * 0.01, `too many masked values (${a.masked})`);
        assert.ok(a.psnrDb >= MIN_PSNR_DB, `${id}: ${a.psnrDb.toFixed(2)} dB < ${MIN_PSNR_DB} dB`);
      } finally {
        await model.session.release();
      }
    });
  }
});
