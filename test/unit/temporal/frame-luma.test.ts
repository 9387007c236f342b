import assert from 'node:assert/strict';
import { isSceneCut, lumaOf } from '../../../src/engine/temporal/change-mask';
import { frameLuma, frameSceneCut } from '../../../src/engine/temporal/frame-luma';
import { clipPath, decodeRgbFrames } from '../../../tools/models/calibrate';
import { texture } from './frames';

describe('temporal: a frame’s luma and scene-cut test computed once per frame (frame-luma.ts)', () => {
  const w = 96;
  const h = 54;
  const frames = decodeRgbFrames(clipPath('cockatoo.mp4'), `scale=${w}:${h}:flags=area`, w, h, 3);

  it('the luma of lumaOf(), made once per frame object; another object with the same bytes gets its own', () => {
    const luma = frameLuma(frames[0], w * h);
    assert.deepEqual(luma, lumaOf(frames[0], w * h));
    assert.equal(frameLuma(frames[0], w * h), luma, 'asked again: the same plane');
    const copy = Uint8Array.from(frames[0]);
    const again = frameLuma(copy, w * h);
    assert.notEqual(again, luma);
    assert.deepEqual(again, luma);
    assert.deepEqual(frameLuma(frames[1], w * h), lumaOf(frames[1], w * h));
    assert.throws(
      () => frameLuma(frames[0], w * h + 1),
      RangeError,
      'a frame of the wrong size is refused as lumaOf refuses it',
    );
  });

  it('isSceneCut() of each pair, per pair: the same plane against another previous plane is tested again', () => {
    const [a, b] = frames.map((f) => frameLuma(f, w * h));
    const other = frameLuma(texture(w, h, 7), w * h);
    assert.equal(isSceneCut(b, a), false, 'consecutive frames of one shot');
    assert.equal(isSceneCut(b, other), true, 'against an unrelated picture');
    assert.equal(frameSceneCut(b, a), false);
    assert.equal(frameSceneCut(b, other), true);
    assert.equal(frameSceneCut(b, a), false);
    assert.equal(frameSceneCut(b, a), false, 'asked twice');
  });
});
