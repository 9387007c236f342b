import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { JobJournal } from '../../../src/extension/jobs/job-journal';
import { JobManager } from '../../../src/extension/jobs/job-manager';
import type { JobSnapshot } from '../../../src/extension/jobs/job-state';
import { isAlive } from '../resume/helpers';
import { until } from '../until';
import { memoryStore } from './memory-store';

// Process handling only (fork + IPC, process-tree kill, exit codes, queue): the fake engine is a stand-in that
// emits protocol events; the real engine is exercised by the extension-host e2e suite.
const FAKE = fileURLToPath(new URL('./fixtures/fake-engine.cjs', import.meta.url));

describe('JobManager: engine processes', function () {
  this.timeout(20000);
  let manager: JobManager;
  const logs: string[] = [];
  const levels: string[] = [];
  beforeEach(() => {
    logs.length = 0;
    levels.length = 0;
    manager = new JobManager({
      enginePath: FAKE,
      perDevice: 1,
      cancelGraceMs: 500,
      log: (_id, line, level) => {
        logs.push(line);
        levels.push(`[${level}] ${line}`);
      },
    });
  });
  afterEach(async () => manager.dispose());

  it('maps IPC events to a finished job', async () => {
    const seen: string[] = [];
    manager.onDidChangeJob((j) => seen.push(`${j.phase}:${j.frame}`));
    const job = manager.enqueue({
      input: '/x/a.mp4',
      output: '/x/a.4k.mp4',
      args: ['enhance', '/x/a.mp4', '--frames', '4'],
      device: 'cpu',
    });
    const end = await manager.whenFinished(job.id);
    assert.equal(end.phase, 'done');
    assert.equal(end.frame, 4);
    assert.ok(seen.includes('running:2'), seen.join(' '));
  });

  it('parses --json lines on stdout when the engine does not use IPC', async () => {
    const job = manager.enqueue({
      input: 'a',
      output: 'b',
      args: ['enhance', 'a', '--stdout-json', '--frames', '2'],
      device: 'cpu',
    });
    const end = await manager.whenFinished(job.id);
    assert.equal(end.phase, 'done');
    assert.equal(end.total, 2);
  });

  it('queues jobs on one device and runs them one at a time', async () => {
    const a = manager.enqueue({ input: 'a', output: 'a4', args: ['enhance', 'a', '--frames', '3'], device: 'cpu' });
    const b = manager.enqueue({ input: 'b', output: 'b4', args: ['enhance', 'b', '--frames', '3'], device: 'cpu' });
    assert.equal(manager.get(b.id)?.phase, 'queued');
    assert.equal(manager.queuePosition(b.id), 1);
    let overlap = false;
    manager.onDidChangeJob(() => {
      if (manager.jobs().filter((j) => j.phase === 'running').length > 1) overlap = true;
    });
    await Promise.all([manager.whenFinished(a.id), manager.whenFinished(b.id)]);
    assert.equal(overlap, false);
    assert.equal(manager.get(b.id)?.phase, 'done');
  });

  it('a job removed from the queue ends cancelled with the reason, for the history (to retry from there)', async () => {
    manager.pauseQueue(true);
    const a = manager.enqueue({ input: 'a', output: 'a4', args: ['enhance', 'a', '--frames', '2'], device: 'cpu' });
    assert.ok(manager.cancel(a.id, 'Removed from the queue before it started.'));
    const end = await manager.whenFinished(a.id);
    assert.equal(end.phase, 'cancelled');
    assert.equal(end.failure?.message, 'Removed from the queue before it started.');
    manager.pauseQueue(false);
  });

  it('the journal keeps the waiting line in its order, moves included: a reload queues the jobs again so', async () => {
    await manager.dispose();
    const store = memoryStore();
    manager = new JobManager({ enginePath: FAKE, perDevice: 1, journal: new JobJournal(store) });
    manager.pauseQueue(true);
    const req = (n: string) => ({ input: n, output: `${n}4`, args: ['enhance', n, '--frames', '2'], device: 'cpu' });
    const [a, b, c] = [manager.enqueue(req('a')), manager.enqueue(req('b')), manager.enqueue(req('c'))];
    manager.moveInQueue(c.id, Number.NEGATIVE_INFINITY);
    await manager.dispose(); // the window reloads with nothing started
    const { queued } = await new JobJournal(store).recoverAfterRestart();
    assert.deepEqual(
      queued.map((r) => r.id),
      [c.id, a.id, b.id],
    );
  });

  it("the queue's pause is journaled with it: a reload finds it paused; a pause of another open window is not ours", async () => {
    await manager.dispose();
    const store = memoryStore();
    manager = new JobManager({ enginePath: FAKE, perDevice: 1, journal: new JobJournal(store) });
    manager.pauseQueue(true);
    await manager.dispose(); // the window reloads: this host's pause is the next one's
    assert.equal((await new JobJournal(store).recoverAfterRestart()).queuePaused, true);
    manager = new JobManager({ enginePath: FAKE, perDevice: 1, journal: new JobJournal(store) });
    manager.pauseQueue(false);
    assert.equal((await new JobJournal(store).recoverAfterRestart()).queuePaused, false, 'resumed: not paused');
    // Paused by a window still open (this test's parent process stands for it): not this window's pause.
    await store.update('huaju4k.queuePaused.v1', { paused: true, hostPid: process.ppid });
    assert.equal((await new JobJournal(store).recoverAfterRestart()).queuePaused, false);
    // Paused by a window that is gone: taken over.
    await store.update('huaju4k.queuePaused.v1', { paused: true, hostPid: 2 ** 22 + 7 } /* above Linux's pid_max */);
    assert.equal((await new JobJournal(store).recoverAfterRestart()).queuePaused, true);
  });

  it('a paused queue starts nothing; reordered jobs start in the new order once resumed', async () => {
    manager.pauseQueue(true);
    const req = (n: string) => ({ input: n, output: `${n}4`, args: ['enhance', n, '--frames', '2'], device: 'cpu' });
    const a = manager.enqueue(req('a'));
    const b = manager.enqueue(req('b'));
    const c = manager.enqueue(req('c'));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      manager.jobs().map((j) => j.phase),
      ['queued', 'queued', 'queued'],
    );
    assert.equal(manager.moveInQueue(c.id, Number.NEGATIVE_INFINITY), true);
    assert.deepEqual(manager.queuedIds(), [c.id, a.id, b.id]);
    assert.equal(manager.queuePosition(c.id), 1);
    const order: string[] = [];
    manager.onDidChangeJob((j) => {
      if (j.phase === 'running' && !order.includes(j.input)) order.push(j.input);
    });
    manager.pauseQueue(false);
    await Promise.all([a, b, c].map((j) => manager.whenFinished(j.id)));
    assert.deepEqual(order, ['c', 'a', 'b']);
  });

  it('refuses a second job writing the same output', () => {
    manager.enqueue({ input: 'a', output: 'same', args: ['enhance', 'a', '--frames', '50'], device: 'cpu' });
    assert.throws(
      () => manager.enqueue({ input: 'a', output: 'same', args: ['enhance', 'a'], device: 'cpu' }),
      /already being written/,
    );
  });

  async function startWithGrandchild(extra: string[]): Promise<{ job: JobSnapshot; grandchild: number }> {
    const job = manager.enqueue({
      input: 'a',
      output: 'a4',
      args: ['enhance', 'a', '--frames', '1000', '--interval', '50', '--child', ...extra],
      device: 'cpu',
    });
    await until('the grandchild pid in the log', () => logs.some((l) => l.startsWith('grandchild ')));
    const grandchild = Number(logs.find((l) => l.startsWith('grandchild '))?.split(' ')[1]);
    assert.ok(isAlive(grandchild));
    return { job, grandchild };
  }

  it('cancel stops the engine (exit 5 → cancelled) and reaps its children', async () => {
    const { job, grandchild } = await startWithGrandchild([]);
    assert.equal(manager.cancel(job.id), true);
    const end = await manager.whenFinished(job.id);
    assert.equal(end.phase, 'cancelled');
    await until('the grandchild gone', () => !isAlive(grandchild));
  });

  it('the log of a cancelled run reads like one: progress every 10 % as info, the cancel not an error', async () => {
    const job = manager.enqueue({
      input: 'a',
      output: 'a4',
      args: ['enhance', 'a', '--frames', '1000', '--interval', '2'],
      device: 'cpu',
    });
    await until('frame 250', () => (manager.get(job.id)?.frame ?? 0) >= 250);
    manager.cancel(job.id);
    assert.equal((await manager.whenFinished(job.id)).phase, 'cancelled');
    assert.deepEqual(
      levels.filter((l) => !l.startsWith('[info]')),
      [],
      'nothing but info for a run the user cancelled',
    );
    const progress = logs.filter((l) => l.startsWith('progress '));
    assert.ok(progress.length >= 2 && progress.length <= 10, progress.join('\n'));
    assert.match(progress[0], /^progress 10%: frame 100\/1000, 10 fps, ETA /);
    assert.ok(logs.includes('cancelled: cancelled by SIGTERM'));
    assert.ok(logs.includes('engine exited (code 5): cancelled'));
    assert.equal(new Set(logs).size, logs.length, 'no line twice');
  });

  it('the real engine, forked, logs each thing once: no stderr echo of its events', async () => {
    const real = new JobManager({
      enginePath: fileURLToPath(new URL('../../../src/engine/cli.ts', import.meta.url)),
      perDevice: 1,
      log: (_id, line, level) => levels.push(`[${level}] ${line}`),
    });
    try {
      const job = real.enqueue({
        input: '/nonexistent/in.mp4',
        output: '/nonexistent/in.4k.mp4',
        args: ['enhance', '/nonexistent/in.mp4', '--ep', 'cpu'],
        env: { NODE_OPTIONS: '--import tsx' },
        device: 'cpu',
      });
      const end = await real.whenFinished(job.id);
      assert.equal(end.phase, 'failed');
      const errors = levels.filter((l) => l.startsWith('[error] '));
      assert.equal(errors.length, 1, levels.join('\n'));
      assert.match(errors[0], /nonexistent/);
      // Before, the engine also printed `error: …` on stderr, which the log showed again as a warning.
      assert.deepEqual(
        levels.filter((l) => l.startsWith('[warn] ') && !l.startsWith('[warn] engine exited')),
        [],
      );
    } finally {
      await real.dispose();
    }
  });

  it('cancel kills the whole tree after the grace when the engine ignores SIGTERM', async () => {
    const { job, grandchild } = await startWithGrandchild(['--ignore-term']);
    const t0 = Date.now();
    manager.cancel(job.id);
    const end = await manager.whenFinished(job.id);
    assert.equal(end.phase, 'cancelled');
    assert.ok(Date.now() - t0 >= 400, 'killed only after the grace period');
    await until('the grandchild gone', () => !isAlive(grandchild));
  });

  it('dispose (deactivate) kills every engine tree at once', async () => {
    const { job, grandchild } = await startWithGrandchild(['--ignore-term']);
    const pid = manager.get(job.id)?.pid;
    assert.ok(pid && isAlive(pid));
    await manager.dispose();
    await until('engine and grandchild gone', () => !isAlive(pid) && !isAlive(grandchild));
  });

  it('an engine killed by a signal leaves an interrupted job; an error exit a failed one', async () => {
    const job = manager.enqueue({
      input: 'a',
      output: 'a4',
      args: ['enhance', 'a', '--frames', '1000'],
      device: 'cpu',
    });
    await until('a first frame', () => (manager.get(job.id)?.frame ?? 0) > 0);
    process.kill(manager.get(job.id)?.pid ?? 0, 'SIGKILL');
    const end = await manager.whenFinished(job.id);
    assert.equal(end.phase, 'interrupted');
    assert.equal(end.failure?.signal, 'SIGKILL');
    const bad = manager.enqueue({
      input: 'b',
      output: 'b4',
      args: ['enhance', 'b', '--frames', '1', '--exit', '2'],
      device: 'cpu',
    });
    const failed = await manager.whenFinished(bad.id);
    assert.equal(failed.phase, 'failed');
    assert.equal(failed.failure?.reason, 'fake-failure');
  });

  it('a missing engine file fails the job with a reason instead of hanging', async () => {
    const m = new JobManager({ enginePath: '/nonexistent/engine.js', perDevice: 1 });
    const job = m.enqueue({ input: 'a', output: 'b', args: ['enhance', 'a'], device: 'cpu' });
    const end = await m.whenFinished(job.id);
    assert.equal(end.phase, 'failed');
    await m.dispose();
  });
});
