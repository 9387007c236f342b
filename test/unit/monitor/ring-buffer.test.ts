import assert from 'node:assert/strict';
import { RingBuffer, SeriesRing } from '../../../webview/ring-buffer';

describe('monitor: RingBuffer', () => {
  it('keeps the newest `capacity` values in order once it wraps', () => {
    const r = new RingBuffer<number>(3);
    assert.deepEqual(r.toArray(), []);
    assert.equal(r.last(), undefined);
    for (let i = 1; i <= 5; i++) r.push(i);
    assert.equal(r.length, 3);
    assert.deepEqual(r.toArray(), [3, 4, 5]);
    assert.equal(r.at(0), 3);
    assert.equal(r.last(), 5);
    assert.equal(r.at(3), undefined);
    r.clear();
    assert.equal(r.length, 0);
    r.push(9);
    assert.deepEqual(r.toArray(), [9]);
  });

  it('stays bounded over a long run', () => {
    const r = new RingBuffer<number>(600);
    for (let i = 0; i < 100_000; i++) r.push(i);
    assert.equal(r.length, 600);
    assert.equal(r.at(0), 100_000 - 600);
    assert.equal(r.last(), 99_999);
  });

  it('refuses a useless capacity', () => {
    assert.throws(() => new RingBuffer(0), RangeError);
    assert.throws(() => new RingBuffer(1.5), RangeError);
  });
});

describe('monitor: SeriesRing', () => {
  it('keeps columns aligned for uPlot and turns non-finite values into gaps', () => {
    const s = new SeriesRing(2, 2);
    assert.ok(s.push(1, [10, 100]));
    assert.ok(s.push(2, [Number.NaN, 200]));
    assert.ok(s.push(3, [30, null]));
    assert.deepEqual(s.data(), [
      [2, 3],
      [null, 30],
      [200, null],
    ]);
    assert.equal(s.lastValue(0), 30);
  });

  it('drops points that go back in time and rejects the wrong width', () => {
    const s = new SeriesRing(5, 1);
    s.push(10, [1]);
    assert.equal(s.push(9, [2]), false);
    assert.equal(s.push(Number.NaN, [2]), false);
    assert.equal(s.length, 1);
    assert.throws(() => s.push(11, [1, 2]), RangeError);
  });
});
