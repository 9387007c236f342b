import assert from 'node:assert/strict';
import { sourceColorMatrix, sourceRange } from '../../../src/engine/colour';
import { bitDepthOf } from '../../../src/engine/probe';
import { parseRational } from '../../../src/protocol/ffprobe';

describe('engine: colour and probe helpers', () => {
  it('picks the matrix from tags, else by size, and the range', () => {
    assert.equal(sourceColorMatrix({ colorMatrix: 'bt470bg', width: 1920, height: 1080 }), 'bt601');
    assert.equal(sourceColorMatrix({ colorMatrix: 'bt2020nc', width: 64, height: 36 }), 'bt2020');
    assert.equal(sourceColorMatrix({ colorMatrix: 'bt709', width: 64, height: 36 }), 'bt709');
    assert.equal(sourceColorMatrix({ width: 1280, height: 720 }), 'bt709');
    assert.equal(sourceColorMatrix({ width: 720, height: 576 }), 'bt601');
    assert.equal(sourceColorMatrix({ colorMatrix: 'fcc', width: 1, height: 1 }), 'fcc');
    assert.equal(sourceColorMatrix({ colorMatrix: 'smpte240m', width: 1, height: 1 }), 'smpte240m');
    assert.equal(sourceRange({ pixFmt: 'yuvj420p' }), 'pc');
    assert.equal(sourceRange({ colorRange: 'pc', pixFmt: 'yuv420p' }), 'pc');
    assert.equal(sourceRange({ pixFmt: 'yuv420p10le' }), 'tv');
    assert.equal(bitDepthOf('yuv422p10le'), 10);
    assert.equal(bitDepthOf('rgb24'), 8);
    assert.equal(parseRational('30000/1001').toFixed(3), '29.970');
    assert.equal(parseRational('25'), 25);
    assert.equal(parseRational('1/0'), 0);
  });
});
