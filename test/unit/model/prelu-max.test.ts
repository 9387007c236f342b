import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { constantFloats } from '../../../src/engine/model/int8';
import { modelsDir } from '../../../src/engine/model/loader';
import { floatTensor, withMaxPrelu } from '../../../src/engine/model/prelu-max';
import { rgbToPlanar } from '../../../tools/models/calibrate';
import { truthFrames } from './real-frames';

const { DataType } = onnx.TensorProto;
const session = (bytes: Uint8Array) => ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });

async function floatOutput(bytes: Uint8Array, planar: Float32Array, dims: number[]): Promise<Float32Array> {
  const s = await session(bytes);
  try {
    const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', planar, dims) });
    return out[s.outputNames[0]].data as Float32Array;
  } finally {
    await s.release();
  }
}

const ops = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes).graph?.node?.map((n) => n.opType) ?? [];

const io = (name: string, dims: number[]): onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});

/**
 * x [1,2,5,5] → Conv a (2→2, 3×3) → PRelu p1 (slopes 0.5, 1.5) → Conv b → PRelu p2 (slopes −0.3, 0.2) → y, and p1's
 * output is also added to y when `sideReader`: then p1's channel above 1 cannot be flipped.
 */
function chain(sideReader: boolean): Uint8Array {
  const w = (seed: number) => Float32Array.from({ length: 36 }, (_, i) => Math.sin(seed + i * 1.7) * 0.8);
  const initializer = [
    floatTensor('wa', [2, 2, 3, 3], w(1)),
    floatTensor('ba', [2], Float32Array.of(0.1, -0.2)),
    floatTensor('wb', [2, 2, 3, 3], w(2)),
    floatTensor('s1', [2, 1, 1], Float32Array.of(0.5, 1.5)),
    floatTensor('s2', [2, 1, 1], Float32Array.of(-0.3, 0.2)),
  ];
  const pads = { name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 1, 1, 1] };
  const node = [
    { opType: 'Conv', name: 'a', input: ['x', 'wa', 'ba'], output: ['ya'], attribute: [pads] },
    { opType: 'PRelu', name: 'p1', input: ['ya', 's1'], output: ['za'] },
    { opType: 'Conv', name: 'b', input: ['za', 'wb'], output: ['yb'], attribute: [pads] },
    { opType: 'PRelu', name: 'p2', input: ['yb', 's2'], output: [sideReader ? 'zb' : 'y'] },
    ...(sideReader ? [{ opType: 'Add', name: 'side', input: ['zb', 'za'], output: ['y'] }] : []),
  ];
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'chain', node, initializer, input: [io('x', [1, 2, 5, 5])], output: [io('y', [1, 2, 5, 5])] },
  }).finish();
}

describe('engine/model: PRelu in the max form (prelu-max.ts)', function () {
  this.timeout(120_000);

  it('both bundled models: no PRelu left, channels above slope 1 flipped, float output bit-identical on a real frame', async () => {
    const clip = truthFrames('realshort.mp4', 'eq(n\\,29)', 320, 240);
    const [w, h] = [clip.width / 4, clip.height / 4];
    const planar = rgbToPlanar(clip.input[0], w, h);
    for (const id of ['realesr-animevideov3-x4', 'realesr-general-x4v3']) {
      const fp32 = readFileSync(join(modelsDir(), `${id}.onnx`));
      const rewritten = withMaxPrelu(fp32);
      const before = ops(fp32);
      const after = ops(rewritten);
      assert.ok(!after.includes('PRelu'), `${id}: no PRelu left`);
      const prelus = before.filter((o) => o === 'PRelu').length;
      assert.ok(prelus >= 17, `${id} has ${prelus} PRelus`);
      assert.equal(after.filter((o) => o === 'Max').length, prelus, id);
      assert.equal(after.filter((o) => o === 'Mul').length, before.filter((o) => o === 'Mul').length + prelus, id);
      const g = onnx.ModelProto.decode(rewritten).graph as onnx.IGraphProto;
      const flipped = (g.initializer ?? []).filter((t) => t.name?.includes('__maxprelu__'));
      assert.ok(flipped.length > 0, `${id}: some slopes are above 1, so some Convs carry negated channels`);
      const [a, b] = [
        await floatOutput(fp32, planar, [1, 3, h, w]),
        await floatOutput(rewritten, planar, [1, 3, h, w]),
      ];
      assert.equal(a.length, b.length);
      let differing = 0;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
      assert.equal(differing, 0, `${id}: ${differing} of ${a.length} output values differ`);
    }
  });

  it('a flip a non-Conv reader would see is not made: that PRelu stays, the other becomes Max, same output', async () => {
    const x = Float32Array.from({ length: 50 }, (_, i) => Math.cos(i * 2.3) * 3);
    for (const side of [false, true]) {
      const bytes = chain(side);
      const rewritten = withMaxPrelu(bytes);
      const kept = ops(rewritten);
      assert.equal(kept.filter((o) => o === 'PRelu').length, side ? 1 : 0, kept.join(','));
      assert.equal(kept.filter((o) => o === 'Max').length, side ? 1 : 2, kept.join(','));
      const consts = constantFloats(onnx.ModelProto.decode(rewritten).graph as onnx.IGraphProto);
      assert.equal(consts.has('wa__maxprelu__ya'), !side, 'Conv a negates channel 1 only when p1 is rewritten');
      const [a, b] = [await floatOutput(bytes, x, [1, 2, 5, 5]), await floatOutput(rewritten, x, [1, 2, 5, 5])];
      assert.deepEqual([...b], [...a]);
      assert.ok(
        a.some((v) => v < 0),
        'negative outputs: the slopes matter',
      );
    }
  });

  it('a graph without PRelu comes back as the same bytes', () => {
    const bytes = readFileSync(join(modelsDir(), 'realesr-animevideov3-x4.onnx'));
    const once = withMaxPrelu(bytes);
    assert.equal(withMaxPrelu(once), once);
  });
});
