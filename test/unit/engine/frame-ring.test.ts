import assert from 'node:assert/strict';
import { FrameRing, splitBudget } from '../../../src/engine/frame-ring';

describe('engine: frame ring', () => {
  it('never holds more than its budget, applies backpressure and keeps order', async () => {
    const ring = new FrameRing<number>(100);
    const order: string[] = [];
    const producer = (async () => {
      for (let i = 0; i < 10; i++) {
        await ring.push(i, 40);
        order.push(`p${i}`);
        assert.ok(ring.usedBytes <= 100);
      }
      ring.close();
    })();
    const got: number[] = [];
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(ring.length, 2, 'producer must wait once two 40-byte items fill the 100-byte budget');
    for (;;) {
      const x = await ring.shift();
      if (x === undefined) break;
      got.push(x);
    }
    await producer;
    assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(ring.peakBytes <= 100);
    assert.equal(ring.usedBytes, 0);
  });
  it('admits one oversize item when empty, and abort fails both ends', async () => {
    const ring = new FrameRing<string>(10);
    await ring.push('big', 50);
    const blocked = ring.push('next', 5);
    ring.abort(new Error('stage died'));
    await assert.rejects(blocked, /stage died/);
    await assert.rejects(ring.shift(), /stage died/);
    assert.throws(() => new FrameRing(0), RangeError);
    const closed = new FrameRing<string>(10);
    closed.close();
    await assert.rejects(closed.push('x', 1), /closed/);
  });
  it('splits a budget so both rings hold the same number of frames', () => {
    assert.deepEqual(splitBudget(1000, 10, 160), [50, 800]);
    assert.deepEqual(splitBudget(10, 10, 160), [10, 160]);
  });
});
