import assert from 'node:assert/strict';
import { rangesToRun } from '../../../src/engine/farm/collect-ranges';
import { planRanges } from '../../../src/engine/farm/ranges';
import { freshDir } from '../engine/helpers';

describe('farm: the order ranges are handed out in', () => {
  it('the longest ranges first (job order among equals): the workers’ last ranges are the short ones', () => {
    // 60 segments in 8 ranges: 8 and 7 segments alternate in job order.
    const ranges = planRanges(960, 16, 8);
    assert.deepEqual(
      ranges.map((r) => r.endSegment - r.firstSegment),
      [8, 7, 8, 7, 8, 7, 8, 7],
    );
    const order = rangesToRun(freshDir('huaju4k-range-order-'), ranges);
    assert.deepEqual(
      order.map((r) => r.endSegment - r.firstSegment),
      [8, 8, 8, 8, 7, 7, 7, 7],
    );
    assert.deepEqual(
      order.map((r) => r.firstSegment),
      [0, 15, 30, 45, 8, 23, 38, 53],
    );
  });
});
