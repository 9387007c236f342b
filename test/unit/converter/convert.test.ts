import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { onnx } from 'onnx-proto';
import { convertNcnnToOnnx } from '../../../tools/ncnn2onnx/convert';
import { ConversionError } from '../../../tools/ncnn2onnx/errors';
import { BinBuilder, paramText } from './ncnn-fixture';
import { assertClose, at, conv1x1, decodeModel, mapNchw, runOnnx, sampleInput } from './onnx-run';

// Values exactly representable in fp16, so fp16 storage must reproduce them bit for bit.
const W = [0.5, -0.25, 0.125, 1, 0.75, -1.5, 2, 0, -0.0625];
const B = [0.1, -0.2, 0.3];
const oneConv = (extra = '') =>
  paramText(2, ['Input in 0 1 data', `Convolution c 1 1 data out 0=3 1=1 5=1 6=9 ${extra}`]);

const leaky = (v: number, a: number) => (v < 0 ? v * a : v);

describe('ncnn2onnx: conversion', () => {
  it('stores fp16-tagged weights as FLOAT16 + Cast and computes exactly the same', async () => {
    const { onnx: bytes, scale } = convertNcnnToOnnx(oneConv(), new BinBuilder().fp16(W).raw(B).bytes());
    assert.equal(scale, 1);
    const model = decodeModel(bytes);
    const byName = new Map(model.graph!.initializer!.map((t) => [t.name, t.dataType]));
    assert.deepEqual([...byName.values()].sort(), [onnx.TensorProto.DataType.FLOAT, onnx.TensorProto.DataType.FLOAT16]);
    assert.ok(
      model.graph!.node!.some((n) => n.opType === 'Cast'),
      'a Cast turns the fp16 weights into float',
    );
    const x = sampleInput(3, 2, 3);
    assertClose(await runOnnx(bytes, x), conv1x1(x, W, B, 3));
  });

  it('keeps fp32-tagged weights as FLOAT without a Cast', async () => {
    const w = W.map((v) => v + 1e-4); // not fp16-representable: must survive unchanged
    const { onnx: bytes } = convertNcnnToOnnx(oneConv(), new BinBuilder().fp32(w).raw(B).bytes());
    const model = decodeModel(bytes);
    assert.ok(model.graph!.initializer!.every((t) => t.dataType === onnx.TensorProto.DataType.FLOAT));
    assert.ok(!model.graph!.node!.some((n) => n.opType === 'Cast'));
    const x = sampleInput(3, 2, 2);
    assertClose(await runOnnx(bytes, x), conv1x1(x, w, B, 3));
  });

  it('rejects int8 and codebook-quantized weights, naming the storage and the file', () => {
    assert.throws(
      () => convertNcnnToOnnx(oneConv(), new BinBuilder().int8(W).raw(B).bytes(), { binFile: 'q.bin' }),
      (e: unknown) =>
        e instanceof ConversionError && /^q\.bin: c weights at offset 0 uses int8-quantized storage/.test(e.message),
    );
    assert.throws(
      () => convertNcnnToOnnx(oneConv(), new BinBuilder().codebook(9).raw(B).bytes()),
      /uses 256-entry codebook \(uint8-quantized\) storage.*only fp16 and fp32/,
    );
    assert.throws(
      () => convertNcnnToOnnx(oneConv('8=1'), new BinBuilder().fp16(W).raw(B).bytes()),
      /int8-quantized convolution/,
    );
  });

  it('fails on a truncated .bin and on one with bytes left over', () => {
    const good = new BinBuilder().fp16(W).raw(B).bytes();
    assert.throws(
      () => convertNcnnToOnnx(oneConv(), good.subarray(0, good.byteLength - 4), { binFile: 't.bin' }),
      /t\.bin: truncated \.bin: c bias \(3 fp32 values\) needs 12 bytes at offset 24, but the file has only 32 bytes/,
    );
    assert.throws(
      () => convertNcnnToOnnx(oneConv(), good.subarray(0, 10)),
      /truncated \.bin: c weights \(9 fp16 values\)/,
    );
    assert.throws(
      () => convertNcnnToOnnx(oneConv(), Buffer.concat([good, new Uint8Array(8)])),
      /consumed 36 bytes but the \.bin has 44/,
    );
  });

  it('names an unknown layer type, its line and what is supported', () => {
    const param = paramText(2, ['Input in 0 1 data', 'Deconvolution d 1 1 data out 0=3 1=4 6=144']);
    assert.throws(
      () => convertNcnnToOnnx(param, new Uint8Array(0), { paramFile: 'u.param' }),
      /u\.param: line 4: layer d has type Deconvolution, which the converter does not support \(supported: Input, Split, Convolution/,
    );
  });

  it('checks weights against the channels flowing in, and the graph for a single output', () => {
    const wrongCh = paramText(3, [
      'Input in 0 1 data 2=3',
      'Convolution a 1 1 data x 0=2 1=1 6=6',
      'Convolution b 1 1 x out 0=3 1=1 6=9',
    ]);
    assert.throws(
      () => convertNcnnToOnnx(wrongCh, new BinBuilder().fp16([1, 1, 1, 1, 1, 1]).fp16(W).bytes()),
      /layer b \(Convolution, line 5\): weights expect 3 input channels but the input blob has 2/,
    );
    const twoOut = paramText(4, ['Input in 0 1 data', 'Split s 1 2 data a b', 'ReLU r 1 1 a out']);
    assert.throws(
      () => convertNcnnToOnnx(twoOut, new Uint8Array(0)),
      /expected exactly one output blob, found 2: b, out/,
    );
    const undefinedBlob = paramText(2, ['Input in 0 1 data', 'ReLU r 1 1 nothing out']);
    assert.throws(
      () => convertNcnnToOnnx(undefinedBlob, new Uint8Array(0)),
      /blob "nothing" is used before any layer produces it/,
    );
  });

  it('maps an SRVGGNetCompact-style tail: PReLU, PixelShuffle (CRD), nearest Interp, Add; scale 2', async () => {
    // conv 3→12 (1×1), PReLU, PixelShuffle ×2 → 3 ch at 2×; plus the input upsampled ×2 by nearest.
    const w = Array.from({ length: 36 }, (_, i) => ((i * 7) % 11) / 8 - 0.5);
    const slopes = Array.from({ length: 12 }, (_, i) => i / 16);
    const param = paramText(8, [
      'Input in 0 1 data',
      'Split sp 1 2 data d0 d1',
      'Convolution c 1 1 d1 f 0=12 1=1 5=0 6=36',
      'PReLU p 1 1 f g 0=12',
      'PixelShuffle ps 1 1 g h 0=2',
      'Interp up 1 1 d0 u 0=1 1=2.000000e+00 2=2.000000e+00',
      'BinaryOp add 2 1 h u output',
    ]);
    const res = convertNcnnToOnnx(param, new BinBuilder().fp16(w).raw(slopes).bytes());
    assert.equal(res.scale, 2);
    const meta = decodeModel(res.onnx).metadataProps!.find((p) => p.key === 'huaju4k.scale');
    assert.equal(meta?.value, '2');

    const x = sampleInput(3, 3, 4);
    const f = conv1x1(x, w, [], 12);
    const g = mapNchw(12, x.h, x.w, (c, y, xx) => leaky(at(f, c, y, xx), slopes[c]));
    const expected = mapNchw(3, 6, 8, (c, y, xx) => {
      const shuffled = at(g, c * 4 + (y % 2) * 2 + (xx % 2), y >> 1, xx >> 1);
      return shuffled + at(x, c, y >> 1, xx >> 1);
    });
    assertClose(await runOnnx(res.onnx, x), expected, 1e-4);
  });

  it('maps an RRDB-style block: fused LeakyReLU, Concat, Eltwise with coefficients', async () => {
    const w1 = [0.5, -1, 0.25, 1, 0.5, -0.5]; // 3→2
    const w2 = Array.from({ length: 15 }, (_, i) => (i % 5) / 4 - 0.5); // 5→3
    const param = paramText(8, [
      'Input in 0 1 data',
      'Split sp 1 3 data a b c',
      'Convolution c1 1 1 a x 0=2 1=1 6=6 9=2 -23310=1,2.000000e-01',
      'Concat cat 2 1 b x y',
      'Convolution c2 1 1 y z 0=3 1=1 5=1 6=15',
      'Eltwise add 2 1 z c output 0=1 -23301=2,2.000000e-01,1.000000e+00',
    ]);
    const res = convertNcnnToOnnx(param, new BinBuilder().fp16(w1).fp16(w2).raw(B).bytes());
    const x = sampleInput(3, 2, 3);
    const xs = conv1x1(x, w1, [], 2);
    const y = mapNchw(5, x.h, x.w, (c, yy, xx) => (c < 3 ? at(x, c, yy, xx) : leaky(at(xs, c - 3, yy, xx), 0.2)));
    const z = conv1x1(y, w2, B, 3);
    const expected = mapNchw(3, x.h, x.w, (c, yy, xx) => 0.2 * at(z, c, yy, xx) + at(x, c, yy, xx));
    assertClose(await runOnnx(res.onnx, x), expected, 1e-4);
  });

  it('is deterministic: the same files give the same bytes, metadata included', () => {
    const param = oneConv();
    const bin = new BinBuilder().fp16(W).raw(B).bytes();
    const sha = () =>
      createHash('sha256')
        .update(convertNcnnToOnnx(param, bin, { metadata: { 'huaju4k.id': 'x', a: 'b' } }).onnx)
        .digest('hex');
    assert.equal(sha(), sha());
    const other = convertNcnnToOnnx(
      param,
      new BinBuilder()
        .fp16(W.map((v) => -v))
        .raw(B)
        .bytes(),
    ).onnx;
    assert.notEqual(createHash('sha256').update(other).digest('hex'), sha());
  });
});
