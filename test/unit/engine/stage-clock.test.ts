import assert from 'node:assert/strict';
import { StageClock } from '../../../src/engine/pipeline/stage-clock';

describe('engine: the stage clock’s steady time per frame (done report steadyFrameMs)', () => {
  it('is undefined until a second frame: the first is warm-up', () => {
    const clock = new StageClock();
    assert.equal(clock.steadyFrameMs, undefined);
    clock.addFrame(900);
    assert.equal(clock.steadyFrameMs, undefined);
  });

  it('is the mean of the frames after the first', () => {
    const clock = new StageClock();
    for (const ms of [900, 100, 200, 300]) clock.addFrame(ms);
    assert.equal(clock.steadyFrameMs, 200);
  });
});
