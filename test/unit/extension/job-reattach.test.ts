import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { engineFinishedDone, engineStillRunning, pruneEventFiles } from '../../../src/extension/attached-engine';
import { JobJournal, type KeyValueStore } from '../../../src/extension/job-journal';
import { JobManager } from '../../../src/extension/job-manager';
import { basicClip, FAST_MODEL, freshDir, ROOT, streams } from '../engine/helpers';
import { isAlive } from '../resume/helpers';
import { until } from '../until';

/** globalState's part the journal uses, kept in memory across the two "hosts" of a test. */
function memoryStore(): KeyValueStore {
  const map = new Map<string, unknown>();
  return {
    get: <T>(key: string) => map.get(key) as T | undefined,
    update: async (key: string, value: unknown) => {
      map.set(key, JSON.parse(JSON.stringify(value)));
    },
  };
}

// The real engine (from source through tsx), as the extension forks dist/engine.js.
const ENGINE = join(ROOT, 'src/engine/cli.ts');
const ENV = {
  NODE_OPTIONS: `--import=${pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href}`,
  HUAJU4K_PROGRESS_EVERY_MS: '0',
};

describe('a window reload does not stop a job: the next host re-attaches to the running engine', function () {
  this.timeout(600_000);

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
    const live = await journal.recoverAfterRestart((r) => engineStillRunning(r.pid, r.output));
    assert.equal(live.length, 1, 'the running job is offered for re-attaching, not marked interrupted');
    const host2 = new JobManager({ enginePath: ENGINE, perDevice: 1, journal, stateDir });
    const adopted = host2.adopt(live[0]);
    assert.ok(adopted);
    return { host2, adopted, pid, output, stateDir };
  }

  it('follows the engine to the end: progress rebuilt from its events, done, output complete', async () => {
    const { host2, adopted, output, stateDir } = await startThenReload(40);
    assert.equal(host2.get(adopted.id)?.phase, 'running');
    await until('the state rebuilt from the events file', () => (host2.get(adopted.id)?.total ?? 0) === 40, 10_000);
    const end = await host2.whenFinished(adopted.id);
    assert.equal(end.phase, 'done', JSON.stringify(end.failure));
    assert.equal(end.frame, 40);
    assert.equal(Number(streams(output).find((s) => s.codec_type === 'video')?.nb_read_packets), 40);
    assert.deepEqual(readdirSync(stateDir), [], 'the events file is removed with the job');
    await host2.dispose();
  });

  it('an engine that finished while no window was open: its job is forgotten as done, its events file pruned', async () => {
    const dir = freshDir('huaju4k-reattach-');
    const stateDir = join(dir, 'state');
    const output = join(dir, 'clip.4k.mp4');
    const store = memoryStore();
    const host1 = new JobManager({ enginePath: ENGINE, perDevice: 1, journal: new JobJournal(store), stateDir });
    const args = ['enhance', basicClip(12), '-o', output, '--model', FAST_MODEL, '--tile', '0', '--scale', '4'];
    const job = host1.enqueue({ input: basicClip(12), output, args, env: ENV, device: 'cpu' });
    await until('running', () => (host1.get(job.id)?.frame ?? 0) >= 1, 120_000, 50);
    const pid = host1.get(job.id)?.pid ?? 0;
    await host1.dispose();
    await until('the engine finished on its own', () => !isAlive(pid), 120_000, 50);
    const stale = join(stateDir, 'job-gone.events.jsonl');
    writeFileSync(stale, '');
    const journal = new JobJournal(store);
    const record = journal.all().find((r) => r.output === output);
    assert.equal(engineFinishedDone(record?.eventsFile), true);
    const live = await journal.recoverAfterRestart(
      (r) => engineStillRunning(r.pid, r.output),
      (r) => engineFinishedDone(r.eventsFile),
    );
    assert.deepEqual(live, []);
    assert.equal(
      journal.all().find((r) => r.output === output),
      undefined,
      'not shown as interrupted',
    );
    pruneEventFiles(stateDir, new Set());
    assert.deepEqual(readdirSync(stateDir), []);
    assert.equal(Number(streams(output).find((s) => s.codec_type === 'video')?.nb_read_packets), 12);
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
});
