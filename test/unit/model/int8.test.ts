import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { cpuInt8Exact } from '../../../src/engine/device/cpu-int8';
import { openWithPrecision } from '../../../src/engine/device/precision';
import { listModels } from '../../../src/engine/model/catalog';
import { halfToFloat } from '../../../src/engine/model/half';
import { activationQuant, quantizedActivations, toInt8Model } from '../../../src/engine/model/int8';
import { CALIBRATION_FILE, INT8_FORM, readCalibration } from '../../../src/engine/model/int8-variant';
import { Int8UnavailableError, loadModel, modelsDir, type Precision } from '../../../src/engine/model/loader';
import { rewriteNearestSkip } from '../../../src/engine/model/skip-rewrite';
import { MODEL_SOURCES } from '../../../tools/models/catalog';
import { fuseReluConcat, splitPrelu, tieConcatRanges } from '../../../tools/models/relu-split';
import { psnr } from '../../../tools/quality/metrics';
import { type TruthFrames, truthFrames, upscaleLoaded, upscaleRgb } from './real-frames';

const { DataType } = onnx.TensorProto;
/** The models with a verified int8 variant (tools/models/catalog.ts); the general model has none (below the gates). */
const INT8_MODELS = MODEL_SOURCES.filter((s) => s.int8).map((s) => s.id);

const floats = (t: onnx.ITensorProto): Float32Array => {
  const raw = new Uint8Array(t.rawData ?? []);
  return t.dataType === DataType.FLOAT16
    ? Float32Array.from(new Uint16Array(raw.buffer), halfToFloat)
    : new Float32Array(raw.buffer);
};

const session = (bytes: Uint8Array) => ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });

/** Real frames the calibration never saw: cockatoo (1280×720 source) at 640×360 and realshort at 320×240. */
let clips: TruthFrames[] = [];

describe('engine/model: int8 quantizer', () => {
  it('activations: per-tensor uint8 whose range covers the calibrated one and keeps 0 exact', () => {
    assert.deepEqual(activationQuant([-2, 6]), { scale: Math.fround(8 / 255), zeroPoint: 64 });
    assert.deepEqual(activationQuant([0.5, 1]), { scale: Math.fround(1 / 255), zeroPoint: 0 });
    const { scale, zeroPoint } = activationQuant([-47.2, 39]);
    assert.ok(-zeroPoint * scale <= -47.2 + scale && (255 - zeroPoint) * scale >= 39 - scale);
  });

  it('weights: per output channel symmetric int8 (zero point 0, max |q| 127, error ≤ scale/2), int32 bias', () => {
    const fp32 = readFileSync(join(modelsDir(), 'realesr-animevideov3-x4.onnx'));
    const ranges = readCalibration(modelsDir())?.models['realesr-animevideov3-x4'];
    assert.ok(ranges, `${CALIBRATION_FILE} has the anime model's ranges`);
    const q = onnx.ModelProto.decode(toInt8Model(fp32, ranges, INT8_FORM)).graph;
    const src = onnx.ModelProto.decode(fp32).graph;
    const init = (g: typeof q, name: string) => g?.initializer?.find((t) => t.name === name) as onnx.ITensorProto;
    const w = floats(init(src, 'Conv_2.weight_fp16'));
    const wq = init(q, 'Conv_2.weight__q');
    assert.equal(wq.dataType, DataType.INT8);
    assert.deepEqual(wq.dims?.map(Number), [64, 64, 3, 3]);
    const values = new Int8Array(new Uint8Array(wq.rawData ?? []).buffer);
    const scales = floats(init(q, 'Conv_2.weight__scale'));
    assert.deepEqual(
      [...new Int8Array(new Uint8Array(init(q, 'Conv_2.weight__zp').rawData ?? []).buffer)],
      Array(64).fill(0),
    );
    for (let c = 0; c < 64; c++) {
      const row = values.subarray(c * 576, (c + 1) * 576);
      assert.equal(Math.max(...row.map(Math.abs)), 127, `channel ${c} uses the full int8 range`);
      for (let i = 0; i < 576; i++) assert.ok(Math.abs(row[i] * scales[c] - w[c * 576 + i]) <= scales[c] / 2 + 1e-7);
    }
    assert.equal(init(q, 'Conv_2.bias__q').dataType, DataType.INT32);
    const ops = new Set(q?.node?.map((n) => n.opType));
    assert.ok(ops.has('QuantizeLinear') && ops.has('DequantizeLinear') && !ops.has('Resize'), [...ops].join(','));
  });
});

describe('engine/model: int8 variant', function () {
  this.timeout(300_000);

  before(() => {
    clips = [
      truthFrames('cockatoo.mp4', 'eq(n\\,17)+eq(n\\,122)+eq(n\\,227)', 640, 360),
      truthFrames('realshort.mp4', 'eq(n\\,5)+eq(n\\,29)', 320, 240),
    ];
    assert.equal(clips[0].truth.length, 3);
    assert.equal(clips[1].truth.length, 2);
  });

  it('the QOperator and u8u8 forms compute the same as the QDQ form (within rounding) with QLinearConv written out', async () => {
    const fp32 = readFileSync(join(modelsDir(), 'realesr-animevideov3-x4.onnx'));
    const ranges = readCalibration(modelsDir())?.models['realesr-animevideov3-x4'] ?? {};
    const qop = toInt8Model(fp32, ranges, { ...INT8_FORM, format: 'qoperator' });
    const ops = onnx.ModelProto.decode(qop).graph?.node?.map((n) => n.opType) ?? [];
    assert.equal(ops.filter((o) => o === 'QLinearConv').length, 18);
    assert.ok(!ops.includes('Conv'));
    const { input, width, height } = clips[1];
    const outs: Uint8Array[] = [];
    for (const bytes of [
      toInt8Model(fp32, ranges, INT8_FORM),
      qop,
      toInt8Model(fp32, ranges, { weightType: 'uint8' }),
    ]) {
      const s = await session(bytes);
      outs.push(await upscaleRgb(s, input[0], width / 4, height / 4));
      await s.release();
    }
    assert.ok(psnr(outs[0], outs[1]) >= 50, `QOperator vs QDQ ${psnr(outs[0], outs[1]).toFixed(1)} dB`);
    // u8s8 saturates on x86 without VNNI (cpu-int8.ts): the two forms agree only where the CPU runs int8 exactly.
    if (cpuInt8Exact()) assert.ok(psnr(outs[0], outs[2]) >= 45, `u8u8 vs u8s8 ${psnr(outs[0], outs[2]).toFixed(1)} dB`);
  });

  it('the skip rewrite is exact: the fp32 model with it gives the same output on a real frame', async () => {
    const model = onnx.ModelProto.decode(readFileSync(join(modelsDir(), 'realesr-general-x4v3.onnx')));
    const graph = model.graph as onnx.IGraphProto;
    const r = rewriteNearestSkip(graph.node ?? [], graph.initializer ?? []);
    assert.ok(!r.nodes.some((n) => n.opType === 'Resize'), 'the Resize is gone');
    const rewritten = {
      ...model,
      graph: { ...graph, node: r.nodes, initializer: [...(graph.initializer ?? []), ...r.initializers] },
    };
    const [a, b] = await Promise.all([
      session(onnx.ModelProto.encode(model).finish()),
      session(onnx.ModelProto.encode(rewritten).finish()),
    ]);
    const { input, width, height } = clips[1];
    const [oa, ob] = [
      await upscaleRgb(a, input[0], width / 4, height / 4),
      await upscaleRgb(b, input[0], width / 4, height / 4),
    ];
    assert.equal(psnr(oa, ob), 99, 'identical pixels');
    await Promise.all([a.release(), b.release()]);
  });

  it('relu-split and relu-concat rewrite every PRelu exactly (fp32 output on a real frame ≥ 95 dB from the original)', async () => {
    const fp32 = readFileSync(join(modelsDir(), 'realesr-animevideov3-x4.onnx'));
    const { input, width, height } = clips[1];
    const s0 = await session(fp32);
    const ref = await upscaleRgb(s0, input[0], width / 4, height / 4);
    await s0.release();
    for (const form of ['split', 'concat'] as const) {
      const bytes = splitPrelu(fp32, form);
      const g = onnx.ModelProto.decode(bytes).graph;
      const ops = g?.node?.map((n) => n.opType) ?? [];
      assert.ok(!ops.includes('PRelu'), `${form}: no PRelu left`);
      assert.equal(ops.filter((o) => o === 'Relu').length, 17, form);
      const s = await session(bytes);
      const out = await upscaleRgb(s, input[0], width / 4, height / 4);
      await s.release();
      assert.ok(psnr(ref, out) >= 95, `${form}: ${psnr(ref, out).toFixed(1)} dB`);
      if (form === 'split') {
        // The Relu outputs (zero point 0) are quantized, not the Conv outputs before them.
        const acts = quantizedActivations(bytes);
        assert.equal(acts.length, 19);
        const reluOut = new Set(g?.node?.filter((n) => n.opType === 'Relu').map((n) => n.output?.[0]));
        assert.equal(acts.filter((a) => reluOut.has(a)).length, 17);
      }
    }
  });

  it('relu-concat in int8 has no float op between the first and the last Conv after ORT optimizes it', async () => {
    const fp32 = readFileSync(join(modelsDir(), 'realesr-animevideov3-x4.onnx'));
    const cat = splitPrelu(fp32, 'concat');
    // Ranges from the committed float-PRelu calibration: every Conv output keeps its name in the concat form.
    const ranges = readCalibration(modelsDir())?.models['realesr-animevideov3-x4'] ?? {};
    const q = fuseReluConcat(toInt8Model(cat, tieConcatRanges(cat, ranges), { ...INT8_FORM, format: 'qoperator' }));
    const dir = mkdtempSync(join(tmpdir(), 'huaju4k-int8-'));
    try {
      const optimized = join(dir, 'optimized.onnx');
      const s = await ort.InferenceSession.create(q, { intraOpNumThreads: 2, optimizedModelFilePath: optimized });
      const { input, width, height } = clips[1];
      const out = await upscaleRgb(s, input[0], width / 4, height / 4);
      await s.release();
      const ops = onnx.ModelProto.decode(readFileSync(optimized)).graph?.node?.map((n) => n.opType) ?? [];
      const count = (op: string) => ops.filter((o) => o === op).length;
      assert.equal(count('QLinearConv'), 18);
      assert.equal(count('QLinearLeakyRelu'), 17);
      assert.ok(!ops.includes('PRelu') && !ops.includes('Relu') && count('DequantizeLinear') <= 3, ops.join(','));
      const s0 = await session(fp32);
      const ref = await upscaleRgb(s0, input[0], width / 4, height / 4);
      await s0.release();
      if (cpuInt8Exact()) assert.ok(psnr(ref, out) >= 35, `int8 relu-concat vs fp32 ${psnr(ref, out).toFixed(1)} dB`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const id of INT8_MODELS) {
    it(`${id}: int8 vs fp32 ≥ 40 dB on real frames; vs ground truth at most 0.3 dB below fp32 (a CPU that runs int8 exactly)`, async function () {
      // On x86 without VNNI onnxruntime's int8 kernels saturate: `auto` runs fp32 there (cpu-int8.test.ts).
      if (!cpuInt8Exact()) this.skip();
      const fp32 = await loadModel(id, { intraOpNumThreads: 2 });
      const int8 = await loadModel(id, { intraOpNumThreads: 2, precision: 'int8' });
      assert.equal(int8.precision, 'int8');
      const sums = { fp32: 0, int8: 0, n: 0 };
      for (const clip of clips) {
        for (let i = 0; i < clip.input.length; i++) {
          const [w, h] = [clip.width / 4, clip.height / 4];
          const a = await upscaleLoaded(fp32.session, clip.input[i], w, h);
          const b = await upscaleLoaded(int8.session, clip.input[i], w, h);
          const vsFp32 = psnr(a, b);
          assert.ok(vsFp32 >= 40, `${clip.name} frame ${i}: int8 vs fp32 ${vsFp32.toFixed(2)} dB < 40`);
          sums.fp32 += psnr(a, clip.truth[i]);
          sums.int8 += psnr(b, clip.truth[i]);
          sums.n++;
        }
      }
      const [pf, pi] = [sums.fp32 / sums.n, sums.int8 / sums.n];
      assert.ok(pi >= pf - 0.3, `vs ground truth: int8 ${pi.toFixed(3)} dB, fp32 ${pf.toFixed(3)} dB`);
      await Promise.all([fp32.session.release(), int8.session.release()]);
    });
  }
});

describe('engine/model: int8 variant check', function () {
  this.timeout(120_000);

  it('exactly the catalogued int8 models have a verified variant; the general model is refused, not run', async () => {
    assert.deepEqual(INT8_MODELS, ['realesr-animevideov3-x4']);
    for (const m of listModels()) assert.equal(Boolean(m.int8?.sha256), INT8_MODELS.includes(m.id), m.id);
    await assert.rejects(
      loadModel('realesr-general-x4v3', { precision: 'int8' }),
      (e: unknown) => e instanceof Int8UnavailableError && /no verified int8 variant/.test(e.message),
    );
  });

  it('models.json records the int8 sha256 npm run models builds; a changed range is refused, auto runs fp32', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huaju4k-int8-'));
    const saved = process.env.HUAJU4K_MODELS_DIR;
    try {
      for (const f of ['models.json', 'realesr-animevideov3-x4.onnx']) copyFileSync(join(modelsDir(), f), join(dir, f));
      const cal = JSON.parse(readFileSync(join(modelsDir(), CALIBRATION_FILE), 'utf8'));
      const first = Object.keys(cal.models['realesr-animevideov3-x4'])[1];
      cal.models['realesr-animevideov3-x4'][first][1] *= 1.01;
      writeFileSync(join(dir, CALIBRATION_FILE), JSON.stringify(cal));
      process.env.HUAJU4K_MODELS_DIR = dir;
      await assert.rejects(
        loadModel('realesr-animevideov3-x4', { precision: 'int8' }),
        (e: unknown) => e instanceof Int8UnavailableError && /models\.json expects/.test(e.message),
      );
      const load = (precision: Precision) => loadModel('realesr-animevideov3-x4', { precision, intraOpNumThreads: 1 });
      const { model, warnings } = await openWithPrecision('auto', 'cpu', load, true);
      await model.session.release();
      assert.equal(model.precision, 'fp32');
      assert.deepEqual(
        warnings.map((w) => w.code),
        ['int8-unavailable'],
      );
    } finally {
      if (saved === undefined) delete process.env.HUAJU4K_MODELS_DIR;
      else process.env.HUAJU4K_MODELS_DIR = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a model given by path has no verified int8 variant', async () => {
    await assert.rejects(
      loadModel(join(modelsDir(), 'realesr-animevideov3-x4.onnx'), { precision: 'int8' }),
      Int8UnavailableError,
    );
  });
});
