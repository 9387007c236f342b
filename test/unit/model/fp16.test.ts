import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { Fp16ConversionError, toFp16Model } from '../../../src/engine/model/fp16';
import { halfToFloat } from '../../../src/engine/model/half';
import { Fp16UnavailableError, loadModel, modelsDir } from '../../../src/engine/model/loader';
import { singleOpModel } from './tiny-onnx';

const { DataType } = onnx.TensorProto;
const MODELS = ['realesr-animevideov3-x4', 'realesr-general-x4v3'];

/** A smooth but busy 3×n×n test image in 0..1 (the models' input range). */
function testImage(n: number): Float32Array {
  const data = new Float32Array(3 * n * n);
  for (let i = 0; i < data.length; i++) data[i] = (Math.sin(i * 0.37) * Math.cos(i * 0.011) + 1) / 2;
  return data;
}

async function run(bytes: Uint8Array, image: Float32Array, n: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
  try {
    const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', image, [1, 3, n, n]) });
    return out[s.outputNames[0]].data as Float32Array;
  } finally {
    await s.release();
  }
}

/** PSNR of two model outputs after clamping to the 0..1 range the engine turns into 8-bit pixels. */
function psnr01(a: Float32Array, b: Float32Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.min(1, Math.max(0, a[i])) - Math.min(1, Math.max(0, b[i]));
    se += d * d;
  }
  return se === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(a.length / se);
}

const elemType = (v: onnx.IValueInfoProto) => v.type?.tensorType?.elemType;

function fp16Values(raw: Uint8Array): number[] {
  const copy = new Uint8Array(raw);
  return Array.from(new Uint16Array(copy.buffer), halfToFloat);
}

describe('engine/model: fp16 variant', function () {
  this.timeout(60_000);

  for (const id of MODELS) {
    it(`${id}: float16 inside, float32 at the edges, Resize scales kept float32, bytes deterministic`, () => {
      const bytes = readFileSync(join(modelsDir(), `${id}.onnx`));
      const before = Buffer.from(bytes);
      const half = toFp16Model(bytes);
      assert.deepEqual(Buffer.from(toFp16Model(bytes)), Buffer.from(half), 'same model, same bytes');
      assert.deepEqual(bytes, before, 'the input buffer is left alone');
      const g = onnx.ModelProto.decode(half).graph;
      assert.ok(g);
      assert.equal(elemType(g.input?.[0] ?? {}), DataType.FLOAT);
      assert.equal(elemType(g.output?.[0] ?? {}), DataType.FLOAT);
      const nodes = g.node ?? [];
      assert.equal(nodes[0].opType, 'Cast', 'input cast first');
      assert.equal(nodes[nodes.length - 1].opType, 'Cast', 'output cast last');
      assert.equal(nodes[nodes.length - 1].output?.[0], g.output?.[0].name);
      const resize = nodes.find((n) => n.opType === 'Resize');
      const scales = g.initializer?.find((t) => t.name === resize?.input?.[2]);
      assert.equal(scales?.dataType, DataType.FLOAT, 'ONNX requires float32 scales');
      const others = (g.initializer ?? []).filter((t) => t !== scales);
      assert.ok(others.length > 10);
      assert.ok(
        others.every((t) => t.dataType === DataType.FLOAT16),
        'every weight and bias in float16',
      );
      const meta = onnx.ModelProto.decode(half).metadataProps ?? [];
      assert.ok(meta.some((p) => p.key === 'huaju4k.precision' && p.value === 'fp16'));
      assert.ok(
        meta.some((p) => p.key === 'huaju4k.scale'),
        'the original metadata stays',
      );
    });

    // x86 CPUs have no fp16 kernels: onnxruntime computes in float32 between casts here. This checks the graph
    // and the rounding of the weights; fp16 arithmetic itself is the GPU run's to measure (docs/gpu-results.md).
    it(`${id}: runs in onnxruntime and matches the fp32 model (≥ 60 dB)`, async () => {
      const bytes = readFileSync(join(modelsDir(), `${id}.onnx`));
      const n = 32;
      const image = testImage(n);
      const [full, half] = [await run(bytes, image, n), await run(toFp16Model(bytes), image, n)];
      assert.equal(half.length, full.length);
      assert.ok(psnr01(full, half) >= 60, `PSNR ${psnr01(full, half).toFixed(1)} dB`);
    });
  }

  it('clamps weights beyond fp16 range to ±65504 instead of making them infinite', () => {
    const w = new Float32Array([1e6, -1e6, 0.1]);
    const model = onnx.ModelProto.encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'mul',
        node: [{ opType: 'Mul', input: ['x', 'w'], output: ['y'] }],
        initializer: [{ name: 'w', dims: [3], dataType: DataType.FLOAT, rawData: new Uint8Array(w.buffer) }],
        input: [{ name: 'x', type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 3 }] } } } }],
        output: [{ name: 'y', type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 3 }] } } } }],
      },
    }).finish();
    const t = onnx.ModelProto.decode(toFp16Model(model)).graph?.initializer?.[0];
    assert.equal(t?.dataType, DataType.FLOAT16);
    const v = fp16Values(t?.rawData ?? new Uint8Array());
    assert.deepEqual(v.slice(0, 2), [65504, -65504]);
    assert.ok(Math.abs(v[2] - 0.1) < 1e-4);
  });

  it('refuses a model with an operator it does not know to be fp16-safe, naming it', async () => {
    const softmax = singleOpModel('Softmax', [1, 3, 'h', 'w'], [1, 3, 'h', 'w']);
    assert.throws(
      () => toFp16Model(softmax),
      (e: unknown) => e instanceof Fp16ConversionError && /Softmax/.test(e.message),
    );
    const file = join(tmpdir(), `huaju4k-softmax-${process.pid}.onnx`);
    writeFileSync(file, softmax);
    try {
      await assert.rejects(
        loadModel(file, { precision: 'fp16' }),
        (e: unknown) => e instanceof Fp16UnavailableError && /has no fp16 form: it uses Softmax/.test(e.message),
      );
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('loadModel precision fp16 runs the variant and says so; fp32 by default', async () => {
    const ref = 'realesr-animevideov3-x4';
    const half = await loadModel(ref, { precision: 'fp16', intraOpNumThreads: 1 });
    const full = await loadModel(ref, { intraOpNumThreads: 1 });
    try {
      assert.equal(half.precision, 'fp16');
      assert.equal(full.precision, 'fp32');
      assert.equal(half.sha256, full.sha256, 'the identity is the file, whatever the precision');
      assert.equal(half.scale, 4);
    } finally {
      await half.session.release();
      await full.session.release();
    }
  });
});
