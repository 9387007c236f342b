import assert from 'node:assert/strict';
import { EngineError } from '../../../src/engine/errors';
import { fitInside, parseTargetOption, resolveTarget, scaleBy } from '../../../src/engine/target-size';

describe('engine: target size rule', () => {
  it('fits the display size inside 3840x2160 with even sizes', () => {
    assert.deepEqual(fitInside({ width: 960, height: 540 }), { width: 3840, height: 2160 });
    assert.deepEqual(fitInside({ width: 214, height: 160 }), { width: 2888, height: 2160 });
    assert.deepEqual(fitInside({ width: 768, height: 576 }), { width: 2880, height: 2160 });
    assert.deepEqual(fitInside({ width: 63, height: 35 }), { width: 3840, height: 2132 });
    assert.deepEqual(fitInside({ width: 36, height: 64 }), { width: 1214, height: 2160 });
  });
  it('--scale multiplies the display size; --target parses and rejects odd sizes', () => {
    assert.deepEqual(scaleBy({ width: 63, height: 35 }, 4), { width: 252, height: 140 });
    assert.deepEqual(resolveTarget({ width: 64, height: 36 }, { scale: 2 }), { width: 128, height: 72 });
    assert.deepEqual(resolveTarget({ width: 64, height: 36 }, { target: '1920x1080' }), { width: 1920, height: 1080 });
    assert.deepEqual(parseTargetOption('1280×720'), { width: 1280, height: 720 });
    assert.throws(() => parseTargetOption('1921x1080'), EngineError);
    assert.throws(() => parseTargetOption('big'), /WIDTHxHEIGHT/);
    assert.throws(() => resolveTarget({ width: 64, height: 36 }, { scale: 0 }), /--scale/);
  });
});
