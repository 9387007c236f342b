import assert from 'node:assert/strict';
import { newJob, percentOf, progressText } from '../../../src/extension/jobs/job-state';
import { percentFloor } from '../../../src/protocol/percent';
import { formatPercent } from '../../../webview/format';

describe('progress percentage: one rule for the tree and the monitor', () => {
  it('floors, so nothing says 100% before the last frame, and keeps exact steps', () => {
    assert.equal(percentFloor(0.996), 99);
    assert.equal(percentFloor(1), 100);
    assert.equal(percentFloor(0.29), 29, '0.29 × 100 is 28.999… in floating point');
    assert.equal(percentFloor(0.0449, 1), 4.4);
    assert.equal(percentFloor(1.5), 100);
    assert.equal(percentFloor(-0.2), 0);
    assert.equal(percentFloor(Number.NaN), 0);
  });

  it('the Videos tree and the monitor show the same number for the same frame', () => {
    for (const [frame, total] of [
      [199, 200],
      [1, 3],
      [2, 3],
      [667, 1000],
      [29, 100],
      [4999, 5000],
    ]) {
      const tree = `${percentOf({ frame, total })}%`;
      assert.equal(formatPercent(frame / total), tree, `${frame}/${total}`);
      assert.ok(progressText({ ...newJob('j', 'a', 'b', 0), phase: 'running', frame, total }).startsWith(tree));
    }
  });
});
