import assert from 'node:assert/strict';
import {
  batchEndText,
  batchProgress,
  batchRetryable,
  failuresToTell,
} from '../../../src/extension/jobs/batch-progress';
import { type JobPhase, type JobSnapshot, newJob } from '../../../src/extension/jobs/job-state';
import { activeRow } from '../../../src/extension/jobs/jobs-model';

function job(name: string, phase: JobPhase, frame = 0, total = 0): JobSnapshot {
  return { ...newJob(name, `/v/${name}.mp4`, `/v/${name}.4k.mp4`, 0), phase, frame, total };
}

describe('batch progress: one notification for many jobs', () => {
  it('a single job reads as before: its name and progress', () => {
    const p = batchProgress([job('a', 'running', 12, 48)]);
    assert.equal(p.message, 'a.mp4: 25% · 12/48');
    assert.equal(p.percent, 25);
    assert.equal(p.over, false);
  });

  it('a batch counts ended jobs as whole, says how many ended and wait, and that the queue is paused', () => {
    const jobs = [job('a', 'done', 48, 48), job('b', 'failed'), job('c', 'running', 24, 48), job('d', 'queued')];
    const p = batchProgress(jobs, true);
    assert.equal(p.message, '2 of 4 finished · c.mp4: 50% · 24/48 · 1 queued · queue paused');
    assert.equal(p.percent, Math.floor((100 + 100 + 50 + 0) / 4));
    assert.equal(p.over, false);
  });

  it('is over when every job ended, and the end message counts each outcome', () => {
    const jobs = [job('a', 'done'), job('b', 'done'), job('c', 'failed'), job('d', 'cancelled')];
    assert.equal(batchProgress(jobs).over, true);
    assert.equal(batchProgress([]).over, true, 'every job taken out of the batch');
    assert.equal(batchEndText(jobs), 'huaju4k: 4 videos finished: 2 enhanced, 1 failed, 1 cancelled');
  });

  it('Retry Failed only when something failed: a cancelled job is not offered for retry', () => {
    assert.deepEqual(batchRetryable([job('a', 'done'), job('b', 'cancelled')]), []);
    assert.deepEqual(batchRetryable([job('a', 'done'), job('c', 'failed')]), ['c']);
  });

  it('a job retried inside its batch counts once, as its latest try: no double count, no Retry Failed', () => {
    const retried = { ...job('b', 'done', 4, 4), id: 'b-retry' };
    const jobs = [job('a', 'done', 4, 4), job('b', 'failed'), job('c', 'done', 4, 4), retried];
    assert.equal(batchEndText(jobs), 'huaju4k: 3 videos finished: 3 enhanced');
    assert.deepEqual(batchRetryable(jobs), []);
    const running = [job('a', 'done', 4, 4), job('b', 'failed'), { ...job('b', 'running', 1, 4), id: 'b2' }];
    assert.equal(batchProgress(running).message, '1 of 2 finished · b.mp4: 25% · 1/4');
    assert.equal(batchProgress(running).over, false);
  });

  it('a failure inside a batch is told at once, once; a single job is told at its end as before', () => {
    const told = new Set<string>();
    const jobs = [job('a', 'running', 1, 4), job('b', 'failed'), job('c', 'queued')];
    assert.deepEqual(
      failuresToTell(jobs, told).map((j) => j.id),
      ['b'],
    );
    assert.deepEqual(failuresToTell(jobs, told), [], 'not twice');
    assert.deepEqual(failuresToTell([job('d', 'failed')], new Set()), []);
  });

  it('a queued job says when it was queued, not "Started"', () => {
    const row = activeRow(job('q', 'queued'), 1, false);
    assert.doesNotMatch(row.tooltip, /Started/);
    assert.match(row.tooltip, /Queued /);
    assert.match(activeRow(job('r', 'running', 1, 4), 0, false).tooltip, /Started /);
  });
});
