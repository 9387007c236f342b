import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyEngineEvent, type JobSnapshot, newJob } from '../../../src/extension/jobs/job-state';
import { rangeRows } from '../../../src/extension/jobs/jobs-model';
import { MonitorState } from '../../../src/extension/monitor/monitor-state';
import type { EngineEvent, RangeEvent } from '../../../src/protocol/engine-events';
import { applyRangeEvent, type RangeView, rangeSummary } from '../../../src/protocol/farm-ranges';
import { initialViewState, reduceView } from '../../../webview/view-model';
import { basicClip, freshDir, runCli } from '../engine/helpers';
import { deterministicArgs } from '../resume/helpers';

const range = (
  r: string,
  state: RangeEvent['state'],
  worker: string,
  frames: number,
  total: number,
  extra: Partial<RangeEvent> = {},
): RangeEvent => ({ type: 'range', ts: 100, range: r, worker, state, frames, total, ...extra });

const fold = (events: RangeEvent[]): RangeView[] => events.reduce(applyRangeEvent, [] as RangeView[]);

describe('farm ranges: range events → the ranges a view shows', () => {
  it('keeps one entry per range in segment order: its worker, state, frames and total', () => {
    const ranges = fold([
      range('4:', 'started', 'hostb/22', 0, 0),
      range('0:2', 'started', 'hosta/11', 0, 6),
      range('2:4', 'started', 'hosta/12', 0, 6),
      range('0:2', 'progress', 'hosta/11', 3, 6, { fps: 2.5 }),
      // A worker's segment report knows no total: the range keeps the one it had.
      range('0:2', 'segment', 'hosta/11', 4, 0),
      range('2:4', 'done', 'hosta/12', 6, 6),
    ]);
    assert.deepEqual(
      ranges.map((r) => [r.range, r.worker, r.state, r.frames, r.total, r.retries]),
      [
        ['0:2', 'hosta/11', 'segment', 4, 6, 0],
        ['2:4', 'hosta/12', 'done', 6, 6, 0],
        ['4:', 'hostb/22', 'started', 0, 0, 0],
      ],
    );
    assert.equal(ranges[0].fps, 2.5, 'the fps of the last progress stays until the range ends');
    assert.equal(rangeSummary(ranges), 'ranges: 1 done, 2 running (workers hosta/11, hostb/22), 0 failed');
  });

  it('counts retries, keeps the reason, and follows the range to the worker that takes it next', () => {
    const ranges = fold([
      range('0:3', 'started', '1', 0, 9),
      range('0:3', 'retry', '1', 3, 9, { message: 'the engine child was killed by SIGKILL' }),
      range('0:3', 'refused', 'hostc/7', 0, 0, { message: 'cannot read the source /mnt/x.mp4' }),
      range('0:3', 'retry', 'hostc/7', 0, 9),
      range('3:', 'started', '2', 0, 9),
      range('3:', 'failed', '2', 0, 9, { message: 'out of disk' }),
    ]);
    assert.equal(ranges[0].retries, 2);
    assert.equal(ranges[0].worker, 'hostc/7');
    assert.equal(ranges[0].message, 'cannot read the source /mnt/x.mp4', 'a retry without a reason keeps the last one');
    const again = applyRangeEvent(ranges, range('0:3', 'started', '2', 3, 9));
    assert.equal(again[0].message, undefined, 'a new start clears the old reason');
    assert.equal(again[0].retries, 2);
    assert.equal(rangeSummary(ranges), 'ranges: 0 done, 0 running, 1 waiting, 1 failed');
    assert.equal(rangeSummary(again), 'ranges: 0 done, 1 running (worker 2), 1 failed');
  });

  it('never changes the list it is given', () => {
    const before = fold([range('0:1', 'started', '1', 0, 3)]);
    const copy = structuredClone(before);
    applyRangeEvent(before, range('0:1', 'done', '1', 3, 3));
    assert.deepEqual(before, copy);
  });
});

describe('farm ranges: the Jobs view rows and the job snapshot', () => {
  const running = (events: EngineEvent[]): JobSnapshot =>
    events.reduce(applyEngineEvent, { ...newJob('j1', '/v/a.mp4', '/v/a.4k.mp4', 0), phase: 'running' });

  it('one child row per range of a running job: worker, state, retries; the reason in the tooltip', () => {
    const job = running([
      range('0:2', 'done', '1', 6, 6),
      range('2:', 'started', '2', 0, 6),
      range('2:', 'retry', '2', 2, 6, { message: 'the engine child was killed by SIGKILL' }),
      range('2:', 'started', '1', 2, 6, { fps: 1.25 }),
      range('2:', 'progress', '1', 4, 6, { fps: 1.25 }),
    ]);
    const rows = rangeRows(job);
    assert.deepEqual(
      rows.map((r) => [r.id, r.label, r.description, r.icon, r.contextValue]),
      [
        ['j1/0:2', 'segments 0–1', 'worker 1 · done 6/6', 'pass', 'job.range'],
        ['j1/2:', 'segments 2–end', 'worker 1 · running 4/6 · 1.3 fps · 1 retry', 'sync~spin', 'job.range'],
      ],
    );
    assert.doesNotMatch(rows[1].tooltip, /SIGKILL/, 'the old reason went with the new start');
  });

  it('no rows for a job run in one piece or no longer running; a new start forgets the old ranges', () => {
    const job = running([range('0:1', 'started', '1', 0, 3)]);
    assert.equal(rangeRows(job).length, 1);
    assert.deepEqual(rangeRows({ ...job, phase: 'interrupted' }), []);
    assert.deepEqual(rangeRows(running([])), []);
    const restarted = applyEngineEvent(job, {
      type: 'start',
      ts: 200,
      model: { id: 'null' },
      totalFrames: 3,
    } as unknown as EngineEvent);
    assert.equal(restarted.ranges, undefined);
  });
});

describe('farm ranges: a real --workers 2 run through the Jobs view and the monitor', function () {
  this.timeout(600000);

  it('every range done by the worker that ran it; a re-opened monitor shows the same ranges as the live one', async () => {
    const dir = freshDir('huaju4k-farm-ext-');
    const input = join(dir, 'in.mp4');
    copyFileSync(basicClip(12), input);
    const args = deterministicArgs(input, join(dir, 'out.mp4'), 3, ['--model', 'null', '--scale', '2']);
    const r = await runCli([...args, '--workers', '2']);
    assert.equal(r.code, 0, r.stderr);
    // The snapshot of the job just before its `done` (rows are shown for running jobs).
    const events = r.events.filter((e) => e.type !== 'done');
    const job = events.reduce(applyEngineEvent, newJob('j', input, join(dir, 'out.mp4'), 0));
    const ranges = job.ranges ?? [];
    const done = r.events.filter((e): e is RangeEvent => e.type === 'range' && e.state === 'done');
    assert.equal(ranges.length, done.length);
    assert.ok(ranges.length >= 2, 'the job was split');
    assert.ok(ranges.every((x) => x.state === 'done' && x.frames === x.total && x.frames > 0));
    assert.equal(
      ranges.reduce((n, x) => n + x.total, 0),
      12,
      'the ranges cover the clip',
    );
    assert.deepEqual(new Set(ranges.map((x) => x.worker)), new Set(done.map((e) => e.worker)));
    assert.equal(rangeRows(job).length, ranges.length);
    assert.equal(rangeSummary(ranges), `ranges: ${ranges.length} done, 0 running, 0 failed`);
    // The monitor: live (event by event) and re-opened (one init from the host's replay) agree.
    const host = new MonitorState();
    let live = initialViewState();
    for (const e of events) {
      const m = host.record('j', e);
      if (m) live = reduceView(live, m);
    }
    const reopened = reduceView(initialViewState(), host.init());
    assert.deepEqual(reopened.ranges, live.ranges);
    assert.deepEqual(live.ranges, ranges);
  });
});
