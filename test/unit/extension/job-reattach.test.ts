import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { engineEnded, engineStillRunning, pruneEventFiles } from '../../../src/extension/engine/attached-engine';
import { JobHistory } from '../../../src/extension/jobs/job-history';
import { JobJournal } from '../../../src/extension/jobs/job-journal';
import { JobManager } from '../../../src/extension/jobs/job-manager';
import { elsewhereRow } from '../../../src/extension/jobs/jobs-model';
import { stateLabel, videoState } from '../../../src/extension/videos/videos-model';
import { basicClip, FAST_MODEL, freshDir, ROOT, streams } from '../engine/helpers';
import { isAlive } from '../resume/helpers';
import { until } from '../until';
import { memoryStore } from './memory-store';

// The real engine (from source through tsx), as the extension forks dist/engine.js.
const ENGINE = join(ROOT, 'src/engine/cli.ts');
const ENV = {
  NODE_OPTIONS: `--import=${pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href}`,
  HUAJU4K_PROGRESS_EVERY_MS: '0',
};

async function startThenReload(frames: number) {
  const dir = freshDir('huaju4k-reattach-');
  const stateDir = join(dir, 'state');
  const output = join(dir, 'clip.4k.mp4');
  const store = memoryStore();
  const host1 = new JobManager({ enginePath: ENGINE, perDevice: 1, journal: new JobJournal(store), stateDir });
  const args = ['enhance', basicClip(frames), '-o', output, '--model', FAST_MODEL, '--tile', '0', '--scale', '4'];
  const job = host1.enqueue({
    input: basicClip(frames),
    output,
    args: [...args, '--segment-frames', '4'],
    env: ENV,
    device: 'cpu',
  });
  await until('frame 3', () => (host1.get(job.id)?.frame ?? 0) >= 3, 120_000, 50);
  const pid = host1.get(job.id)?.pid ?? 0;
  await host1.dispose(); // the host goes away (window reload)
  assert.ok(isAlive(pid), 'the engine outlived its host');
  const journal = new JobJournal(store);
  const { live } = await journal.recoverAfterRestart((r) => engineStillRunning(r.pid, r.output));
  assert.equal(live.length, 1, 'the running job is offered for re-attaching, not marked interrupted');
  const host2 = new JobManager({ enginePath: ENGINE, perDevice: 1, journal, stateDir });
  const previews: number[] = [];
  host2.onEngineEvent(({ event }) => {
    if (event.type === 'preview') previews.push(event.frame);
  });
  const adopted = host2.adopt(live[0]);
  assert.ok(adopted);
  return { host2, adopted, pid, output, stateDir, previews };
}

/**
 * A job whose engine ends while no window is open (`stop`: how, else it runs to the end), then the next window's
 * recovery as `activate` does it: the journal, and the history fed with what ended.
 */
async function endWhileClosed(frames: number, stop?: (pid: number) => void) {
  const dir = freshDir('huaju4k-reattach-');
  const stateDir = join(dir, 'state');
  const output = join(dir, 'clip.4k.mp4');
  const store = memoryStore();
  const host1 = new JobManager({ enginePath: ENGINE, perDevice: 1, journal: new JobJournal(store), stateDir });
  const args = ['enhance', basicClip(frames), '-o', output, '--model', FAST_MODEL, '--tile', '0', '--scale', '4'];
  const job = host1.enqueue({ input: basicClip(frames), output, args, env: ENV, device: 'cpu' });
  await until('running', () => (host1.get(job.id)?.frame ?? 0) >= 1, 120_000, 50);
  const pid = host1.get(job.id)?.pid ?? 0;
  await host1.dispose();
  stop?.(pid);
  await until('the engine ended on its own', () => !isAlive(pid), 120_000, 50);
  const journal = new JobJournal(store);
  const history = new JobHistory(memoryStore());
  const reload = async () => {
    const r = await journal.recoverAfterRestart((rec) => engineStillRunning(rec.pid, rec.output), engineEnded);
    for (const j of r.ended) await history.add(j);
    return r;
  };
  const first = await reload();
  assert.deepEqual(first.live, []);
  assert.equal(first.ended.length, 1, 'the job that ended is reported once');
  assert.equal(first.ended[0].id, job.id);
  const again = await reload();
  assert.deepEqual(
    again,
    { live: [], ended: [], queued: [], queuePaused: false },
    'the next reload does not report it again',
  );
  assert.equal(history.all().length, 1, 'one history entry');
  return { ended: first.ended[0], entry: history.all()[0], journal, output, stateDir };
}

describe('two windows on one running engine: only one re-attaches to it', function () {
  this.timeout(600_000);

  it('two windows: only one re-attaches to the running engine; the other shows it running there, and takes it over once that window is gone', async () => {
    // Each window's extension host is a process of its own: live `sleep` processes stand in for them here.
    const hostProcess = () => spawn('sleep', ['600'], { stdio: 'ignore' });
    const [oldHost, hostA] = [hostProcess(), hostProcess()];
    let enginePid = 0;
    try {
      const dir = freshDir('huaju4k-two-windows-');
      const stateDir = join(dir, 'state');
      const output = join(dir, 'clip.4k.mp4');
      const store = memoryStore();
      const manager = (hostPid: number | undefined, journal = new JobJournal(store)) =>
        new JobManager({ enginePath: ENGINE, perDevice: 1, journal, stateDir, hostPid });
      const first = manager(oldHost.pid);
      const args = ['enhance', basicClip(400), '-o', output, '--model', FAST_MODEL, '--tile', '0', '--scale', '4'];
      const job = first.enqueue({ input: basicClip(400), output, args, env: ENV, device: 'cpu' });
      await until('running', () => (first.get(job.id)?.frame ?? 0) >= 1, 120_000, 50);
      // Held (SIGSTOP: alive, writing nothing) while the windows change hands, so that it cannot finish its 400
      // frames first on a fast machine (CI at c40eb8c: B never saw it running); let go before B cancels it.
      enginePid = first.get(job.id)?.pid ?? 0;
      process.kill(enginePid, 'SIGSTOP');
      await first.dispose();
      // The window reloads: its old host is gone (exited and reaped), the engine runs on.
      oldHost.kill();
      await once(oldHost, 'exit');
      // Window A comes up and re-attaches; window B comes up while A is open.
      const { live } = await new JobJournal(store).recoverAfterRestart((r) => engineStillRunning(r.pid, r.output));
      assert.equal(live.length, 1);
      const a = manager(hostA.pid);
      const b = manager(undefined);
      assert.ok(a.adopt(live[0]), 'window A re-attaches');
      assert.equal(b.adopt(live[0]), undefined, 'window B does not take it over while A follows it');
      assert.deepEqual(b.jobs(), [], 'not B’s job: not counted, not cancellable there');
      assert.deepEqual(
        b.runningElsewhere().map((r) => r.id),
        [job.id],
      );
      assert.equal(elsewhereRow(live[0]).description.split(' · ')[0], 'running in another window');
      const facts = { path: basicClip(400), relPath: 'clip.mp4', elsewhere: true };
      assert.equal(stateLabel(videoState(facts)), 'running in another window');
      // Window A closes: B takes the engine over (its claim) and follows it from then on.
      await a.dispose();
      hostA.kill();
      await once(hostA, 'exit');
      await until('B follows the engine', () => b.get(job.id)?.phase === 'running', 15_000);
      assert.deepEqual(b.runningElsewhere(), []);
      process.kill(enginePid, 'SIGCONT');
      assert.ok(b.cancel(job.id));
      const end = await b.whenFinished(job.id);
      assert.equal(end.phase, 'cancelled', JSON.stringify(end.failure));
      await b.dispose();
    } finally {
      oldHost.kill();
      hostA.kill();
      if (enginePid && isAlive(enginePid)) process.kill(enginePid, 'SIGCONT');
    }
  });
});

describe('a window reload does not stop a job: the next host re-attaches to the running engine', function () {
  this.timeout(600_000);

  it('follows the engine to the end: progress rebuilt from its events, done, output complete', async () => {
    const { host2, adopted, output, stateDir, previews } = await startThenReload(40);
    assert.equal(host2.get(adopted.id)?.phase, 'running');
    await until('the state rebuilt from the events file', () => (host2.get(adopted.id)?.total ?? 0) === 40, 10_000);
    const end = await host2.whenFinished(adopted.id);
    assert.equal(end.phase, 'done', JSON.stringify(end.failure));
    assert.equal(end.frame, 40);
    assert.equal(Number(streams(output).find((s) => s.codec_type === 'video')?.nb_read_packets), 40);
    assert.ok(previews.length > 0, 'the preview comes back after the reload (the monitor shows the picture again)');
    assert.deepEqual(readdirSync(stateDir), [], 'the events and preview files are removed with the job');
    await host2.dispose();
  });

  it('an engine that finished while no window was open: done in the history, forgotten by the journal, events file pruned', async () => {
    const { ended, entry, journal, output, stateDir } = await endWhileClosed(12);
    assert.equal(ended.phase, 'done', JSON.stringify(ended.failure));
    assert.deepEqual([entry.phase, entry.frame, entry.total], ['done', 12, 12]);
    assert.ok(entry.endedAt > entry.startedAt, 'ended when its last event was written');
    assert.ok(entry.endedAt <= Date.now());
    assert.equal(
      journal.all().find((r) => r.output === output),
      undefined,
      'not shown as interrupted',
    );
    const stale = join(stateDir, 'job-gone.events.jsonl');
    writeFileSync(stale, '');
    pruneEventFiles(stateDir, new Set());
    assert.deepEqual(readdirSync(stateDir), []);
    assert.equal(Number(streams(output).find((s) => s.codec_type === 'video')?.nb_read_packets), 12);
  });

  it('an engine cancelled while no window was open: "cancelled" in the history with its message, still resumable', async () => {
    const { ended, entry, journal, output } = await endWhileClosed(400, (pid) => process.kill(pid, 'SIGTERM'));
    assert.equal(ended.phase, 'cancelled');
    assert.equal(entry.phase, 'cancelled');
    assert.match(entry.message ?? '', /^cancelled/, 'the engine’s own words');
    // What it kept (closed segments), as every view says after a stop; not the frames it had processed.
    assert.equal(entry.frame, ended.failure?.framesKept, `kept: ${entry.frame}`);
    assert.ok((ended.framesProcessed ?? ended.frame) >= entry.frame && entry.frame < 400);
    const record = journal.all().find((r) => r.output === output);
    assert.equal(record?.phase, 'cancelled', 'kept as cancelled, not "VS Code closed while the job was running"');
    assert.equal(record?.pid, undefined);
    assert.ok(
      journal.interrupted().some((r) => r.output === output),
      'offered for resume',
    );
  });

  it('Cancel works on a re-attached engine: it stops, its checkpoint is kept', async () => {
    const { host2, adopted, pid, output } = await startThenReload(400);
    assert.ok(host2.cancel(adopted.id));
    const end = await host2.whenFinished(adopted.id);
    assert.equal(end.phase, 'cancelled');
    await until('engine gone', () => !isAlive(pid), 10_000);
    assert.ok(!existsSync(output), 'no output presented as complete');
    assert.equal(engineStillRunning(pid, output), false);
    await host2.dispose();
  });

  it('a reload keeps the waiting line: the queued job waits again (never interrupted) behind the re-attached engine', async () => {
    const dir = freshDir('huaju4k-reattach-');
    const stateDir = join(dir, 'state');
    const store = memoryStore();
    const request = (name: string, frames: number) => {
      const output = join(dir, `${name}.4k.mp4`);
      const args = ['enhance', basicClip(frames), '-o', output, '--model', FAST_MODEL, '--tile', '0', '--scale', '4'];
      return { input: basicClip(frames), output, args, env: ENV, device: 'cpu' };
    };
    const host1 = new JobManager({ enginePath: ENGINE, perDevice: 1, journal: new JobJournal(store), stateDir });
    const running = host1.enqueue(request('running', 400));
    const waiting = host1.enqueue(request('waiting', 4));
    await until('the first job runs', () => (host1.get(running.id)?.frame ?? 0) >= 1, 120_000, 50);
    assert.equal(host1.get(waiting.id)?.phase, 'queued');
    await host1.dispose(); // window reload
    const journal = new JobJournal(store);
    const recovered = await journal.recoverAfterRestart((r) => engineStillRunning(r.pid, r.output), engineEnded);
    assert.deepEqual(
      recovered.live.map((r) => r.id),
      [running.id],
    );
    assert.deepEqual(
      recovered.queued.map((r) => r.id),
      [waiting.id],
      'the waiting job is still waiting',
    );
    assert.deepEqual(journal.interrupted(), [], 'nothing is offered for resume');
    assert.equal(journal.all().find((r) => r.id === waiting.id)?.phase, 'queued');
    const host2 = new JobManager({ enginePath: ENGINE, perDevice: 1, journal, stateDir });
    host2.adopt(recovered.live[0]);
    host2.requeue(recovered.queued[0]);
    const later = host2.enqueue(request('later', 4));
    assert.equal(host2.get(waiting.id)?.phase, 'queued', 'the re-attached engine counts against jobs-per-device');
    assert.deepEqual(host2.queuedIds(), [waiting.id, later.id], 'the line in its old order, the new job last');
    host2.cancel(running.id);
    const ends = await Promise.all([host2.whenFinished(waiting.id), host2.whenFinished(later.id)]);
    assert.deepEqual(
      ends.map((e) => e.phase),
      ['done', 'done'],
    );
    await host2.dispose();
  });
});
