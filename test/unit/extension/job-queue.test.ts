import assert from 'node:assert/strict';
import { JobQueue, slotsOf } from '../../../src/extension/jobs/job-queue';

describe('JobQueue (one job per device by default)', () => {
  it('runs one job per device and keeps the rest in order', () => {
    const q = new JobQueue(1);
    q.enqueue('a', 'cpu');
    q.enqueue('b', 'cpu');
    q.enqueue('c', 'cuda');
    q.enqueue('d', 'cpu');
    assert.deepEqual(q.takeReady(), ['a', 'c']);
    assert.deepEqual(q.takeReady(), []);
    assert.equal(q.position('b'), 1);
    assert.equal(q.position('d'), 2);
    q.finished('a');
    assert.deepEqual(q.takeReady(), ['b']);
    assert.equal(q.position('d'), 1);
  });

  it('honours a larger per-device limit and a removed job', () => {
    const q = new JobQueue(2);
    for (const id of ['a', 'b', 'c']) q.enqueue(id, 'cpu');
    assert.deepEqual(q.takeReady(), ['a', 'b']);
    assert.equal(q.remove('c'), true);
    assert.equal(q.remove('a'), false, 'a running job is not removed from the waiting line');
    q.finished('a');
    assert.deepEqual(q.takeReady(), []);
    assert.deepEqual(q.runningIds, ['b']);
  });

  it('a split job takes one slot per engine process (--workers N, --devices a,b); a farm job one', () => {
    assert.equal(slotsOf(['--workers', '3', '-o', 'x.mp4', '--', 'in.mp4']), 3);
    assert.equal(slotsOf(['--workers=2', '--', 'in.mp4']), 2);
    assert.equal(slotsOf(['--devices', '0,1', '--', 'in.mp4']), 2);
    assert.equal(slotsOf(['--farm', 'redis://h:6379', '--', 'in.mp4']), 1);
    assert.equal(slotsOf(['--', '--workers']), 1, 'a path after -- is no option');
    const q = new JobQueue(3);
    q.enqueue('split', 'cpu', 2);
    q.enqueue('one', 'cpu');
    q.enqueue('other', 'cpu', 2);
    q.enqueue('late', 'cpu');
    // 2 + 1 slots fill the limit of 3; the next split job waits, and the one-slot job behind it does not overtake it.
    assert.deepEqual(q.takeReady(), ['split', 'one']);
    q.finished('one');
    assert.deepEqual(q.takeReady(), [], 'one slot free: not enough for the 2-slot job, and the job behind it waits');
    q.finished('split');
    assert.deepEqual(q.takeReady(), ['other', 'late']);
    // A job wider than the limit runs alone on its device rather than never.
    const narrow = new JobQueue(1);
    narrow.enqueue('wide', 'cpu', 4);
    narrow.enqueue('next', 'cpu');
    assert.deepEqual(narrow.takeReady(), ['wide']);
    narrow.finished('wide');
    assert.deepEqual(narrow.takeReady(), ['next']);
    // A re-attached split job counts with its slots.
    const adopted = new JobQueue(2);
    adopted.adoptRunning('running', 'cpu', 2);
    adopted.enqueue('waits', 'cpu');
    assert.deepEqual(adopted.takeReady(), []);
  });

  it('refuses a duplicate id', () => {
    const q = new JobQueue(1);
    q.enqueue('a', 'cpu');
    assert.throws(() => q.enqueue('a', 'cpu'), /already/);
  });

  it('reorders waiting jobs (clamped to the line) and leaves running ones alone', () => {
    const q = new JobQueue(1);
    for (const id of ['a', 'b', 'c', 'd']) q.enqueue(id, 'cpu');
    assert.deepEqual(q.takeReady(), ['a']);
    assert.equal(q.move('d', -1), true);
    assert.deepEqual(q.waitingIds, ['b', 'd', 'c']);
    assert.equal(q.move('c', Number.NEGATIVE_INFINITY), true);
    assert.deepEqual(q.waitingIds, ['c', 'b', 'd']);
    assert.equal(q.move('c', 10), true);
    assert.deepEqual(q.waitingIds, ['b', 'd', 'c']);
    assert.equal(q.move('a', 1), false, 'a running job has no place in line');
    q.finished('a');
    assert.deepEqual(q.takeReady(), ['b']);
  });

  it('starts nothing while paused, and the line in order once resumed', () => {
    const q = new JobQueue(1);
    q.setPaused(true);
    q.enqueue('a', 'cpu');
    q.enqueue('b', 'cpu');
    assert.deepEqual(q.takeReady(), []);
    assert.equal(q.position('a'), 1);
    q.setPaused(false);
    assert.deepEqual(q.takeReady(), ['a']);
  });
});
