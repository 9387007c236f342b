import assert from 'node:assert/strict';
import { ConversionError } from '../../../tools/ncnn2onnx/errors';
import { arrayParam, floatParam, intParam, parseParam } from '../../../tools/ncnn2onnx/param';
import { paramText } from './ncnn-fixture';

describe('ncnn2onnx: .param parser', () => {
  it('reads layers, blobs, ints, floats and array keys', () => {
    const p = parseParam(
      paramText(3, [
        'Input            in0   0 1 data',
        'Convolution      conv  1 1 data a 0=8 1=3 4=1 5=1 6=216 9=2 -23310=1,2.000000e-01',
        'Eltwise          add   2 1 a data out 0=1 -23301=2,5.0e-01,1.000000',
      ]),
    );
    assert.equal(p.layers.length, 3);
    assert.equal(p.blobCount, 3);
    const [, conv, add] = p.layers;
    assert.deepEqual(
      { type: conv.type, name: conv.name, inputs: conv.inputs, outputs: conv.outputs, line: conv.line },
      { type: 'Convolution', name: 'conv', inputs: ['data'], outputs: ['a'], line: 4 },
    );
    assert.equal(intParam(conv, 0, 0), 8);
    assert.equal(intParam(conv, 11, intParam(conv, 1, 0)), 3, 'missing keys take their default');
    assert.deepEqual(arrayParam(conv, 10), [0.2], 'key -23310 is array id 10');
    assert.deepEqual(arrayParam(add, 1), [0.5, 1]);
    assert.deepEqual(add.inputs, ['a', 'data']);
  });

  it('parses float spellings ncnn writes (exponent, trailing dot) and rejects ints where a float is stored', () => {
    const p = parseParam(paramText(1, ['Interp i 1 1 x y 0=1 1=4.000000e+00 2=2. 3=-1.5E-3']));
    const l = p.layers[0];
    assert.equal(floatParam(l, 1, 0), 4);
    assert.equal(floatParam(l, 2, 0), 2);
    assert.equal(floatParam(l, 3, 0), -0.0015);
    assert.throws(() => intParam(l, 3, 0), /parameter 3 must be an integer/);
  });

  it('rejects a wrong magic number naming the file', () => {
    assert.throws(
      () => parseParam('7767518\n1 1\nInput in 0 1 data\n', 'models/x.param'),
      (e: unknown) =>
        e instanceof ConversionError && /models\/x\.param: not an ncnn \.param file.*7767517/.test(e.message),
    );
    assert.throws(() => parseParam('', 'empty.param'), /empty\.param: not an ncnn \.param file/);
  });

  it('rejects malformed lines with their line number', () => {
    const bad = (layers: string[], re: RegExp) => assert.throws(() => parseParam(paramText(2, layers), 'm.param'), re);
    bad(['Input in 0 1 data', 'ReLU r 1 1 data out 0=abc'], /line 4: value of key 0 "abc" is not a number/);
    bad(['Input in 0 1 data', 'ReLU r 1 1 data out 0=1.2.3'], /line 4: .*"1\.2\.3" is not a number/);
    bad(['Input in 0 1 data', 'ReLU r 1 1 data out =1'], /line 4: expected key=value/);
    bad(['Input in 0 1 data', 'ReLU r 1 1 data out -23301=3,1.0,2.0'], /array key -23301 announces 3 values but has 2/);
    bad(['Input in 0 1 data', 'ReLU r 1 2 data out'], /line 4: layer r lists fewer blobs than its counts 1 2/);
    bad(['Input in 0 1 data', 'ReLU r'], /line 4: a layer needs/);
    assert.throws(
      () => parseParam('7767517\n3 2\nInput in 0 1 data\n'),
      /header announces 3 layers but the file has 1/,
    );
    assert.throws(() => parseParam('7767517\n1\nInput in 0 1 data\n'), /line 2: expected "layer_count blob_count"/);
  });
});
