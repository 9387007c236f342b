import assert from 'node:assert/strict';
import { parseEnhanceArgs } from '../../../src/engine/args';
import { EngineError } from '../../../src/engine/errors';
import { parseRangeSpec, rangeName, withoutFarmOptions } from '../../../src/engine/farm/farm-args';
import { workerSlots } from '../../../src/engine/farm/local-farm';
import { planRanges } from '../../../src/engine/farm/ranges';

describe('farm: options and the cut into ranges', () => {
  it('cuts a job into ranges of whole segments that cover every frame once; never more ranges than segments', () => {
    for (const [total, seg, n] of [
      [24, 3, 4],
      [25, 3, 4],
      [10, 3, 8],
      [1, 5, 3],
    ]) {
      const ranges = planRanges(total, seg, n);
      assert.ok(ranges.length <= Math.ceil(total / seg) && ranges.length <= n);
      let next = 0;
      for (const r of ranges) {
        assert.equal(r.startFrame, next);
        assert.equal(r.startFrame % seg, 0);
        assert.ok(r.endFrame > r.startFrame);
        next = r.endFrame;
      }
      assert.equal(next, total);
      assert.deepEqual(
        ranges.map((r) => r.last),
        ranges.map((_, i) => i === ranges.length - 1),
      );
    }
  });

  it('--range names round-trip; bad ones are usage errors', () => {
    for (const r of planRanges(24, 3, 3)) {
      const back = parseRangeSpec(rangeName(r));
      assert.deepEqual([back.firstSegment, back.last], [r.firstSegment, r.last]);
      if (!r.last) assert.equal(back.endSegment, r.endSegment);
    }
    assert.equal(rangeName(parseRangeSpec('6:')), '6:');
    for (const bad of ['5:5', '5:3', 'x', '-1:2']) assert.throws(() => parseRangeSpec(bad), EngineError);
  });

  it('--workers / --devices / --farm are parsed and exclusive; --devices maps one child per device', () => {
    assert.equal(parseEnhanceArgs(['a.mp4', '--workers', '3']).workers, 3);
    assert.deepEqual(parseEnhanceArgs(['a.mp4', '--devices', '0,1']).devices, ['0', '1']);
    assert.equal(parseEnhanceArgs(['a.mp4', '--farm', 'rediss://:pw@h:6380/0']).farm, 'rediss://:pw@h:6380/0');
    assert.throws(() => parseEnhanceArgs(['a.mp4', '--workers', '2', '--devices', '0']), /one of --workers/);
    assert.throws(() => parseEnhanceArgs(['a.mp4', '--workers', '0']), /--workers/);
    assert.throws(() => parseEnhanceArgs(['a.mp4', '--farm', 'http://h']), /Redis URL/);
    assert.deepEqual(
      workerSlots(undefined, ['0', '1']).map((s) => s.env.HUAJU4K_GPU),
      ['0', '1'],
    );
    assert.equal(workerSlots(4, undefined).length, 4);
  });

  it("a range's engine gets the job's options without the ones that split it", () => {
    assert.deepEqual(
      withoutFarmOptions([
        '--workers',
        '2',
        '--tile=0',
        '--json',
        '--resume',
        '--farm=redis://h',
        '-o',
        'x',
        '--',
        '--workers',
      ]),
      ['--tile=0', '-o', 'x', '--', '--workers'],
    );
  });
});
