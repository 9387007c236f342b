import assert from 'node:assert/strict';
import { type EngineJobInfo, parseEngineJobs } from '../../../src/extension/engine/engine-jobs';
import { JobJournal, type KeyValueStore } from '../../../src/extension/jobs/job-journal';
import { applyExit, newJob } from '../../../src/extension/jobs/job-state';
import {
  findResumable,
  listResumable,
  mergeResumable,
  resumeArgs,
  resumePickItem,
} from '../../../src/extension/jobs/resume';

class MemoryStore implements KeyValueStore {
  data = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    this.data.set(key, JSON.parse(JSON.stringify(value)));
  }
}

describe('resume: journal of interrupted jobs', () => {
  it('remembers an interrupted job and offers it with % done, newest first', async () => {
    const journal = new JobJournal(new MemoryStore());
    const a = { ...newJob('a', '/w/a.mp4', '/w/a.4k.mp4', 1), phase: 'running' as const, frame: 10, total: 40 };
    await journal.record(applyExit(a, null, 'SIGKILL', false, 100), ['enhance', '/w/a.mp4'], {});
    const b = { ...newJob('b', '/w/b.mp4', '/w/b.4k.mp4', 1), phase: 'running' as const, frame: 3, total: 4 };
    await journal.record(applyExit(b, 5, null, true, 200), ['enhance', '/w/b.mp4', '--resume'], {});
    const list = listResumable(journal, () => true);
    assert.deepEqual(
      list.map((j) => [j.record.id, j.percent]),
      [
        ['b', 75],
        ['a', 25],
      ],
    );
    assert.match(resumePickItem(list[1]).description, /^25% kept · 10\/40 frames/);
    assert.deepEqual(resumeArgs(list[0].record), ['enhance', '/w/b.mp4', '--resume']);
    assert.equal(findResumable(list, '/w/a.4k.mp4')?.record.id, 'a');
    assert.equal(findResumable(list, '/w/a.mp4')?.record.id, 'a');
  });

  it('drops the record when the job completes and skips inputs that are gone', async () => {
    const journal = new JobJournal(new MemoryStore());
    const a = { ...newJob('a', '/w/a.mp4', '/w/a.4k.mp4', 1), phase: 'interrupted' as const, frame: 1, total: 4 };
    await journal.record(a, [], {});
    assert.equal(listResumable(journal, () => false).length, 0);
    await journal.record({ ...a, phase: 'done' }, [], {});
    assert.equal(journal.all().length, 0);
  });

  it('a job that was running when VS Code closed becomes interrupted', async () => {
    const store = new MemoryStore();
    await new JobJournal(store).record(
      { ...newJob('a', '/w/a.mp4', '/w/a.4k.mp4', 1), phase: 'running', frame: 2, total: 4 },
      [],
      {},
    );
    const journal = new JobJournal(store);
    await journal.recoverAfterRestart();
    assert.equal(journal.all()[0].phase, 'interrupted');
    assert.equal(journal.all()[0].failure?.reason, 'host-exit');
  });

  it('a queued job stays queued across a restart (to be queued again), unless another open window queued it', async () => {
    const store = new MemoryStore();
    const queued = (id: string, startedAt: number) => newJob(id, `/w/${id}.mp4`, `/w/${id}.4k.mp4`, startedAt);
    await new JobJournal(store).record(queued('b', 20), [], {}, { device: 'cuda' });
    await new JobJournal(store).record(queued('a', 10), [], {}, { device: 'cpu' });
    // A job another window queued: its host (the test runner's parent, alive and not this process) still runs it.
    await store.update('huaju4k.jobs.v1', [
      ...new JobJournal(store).all(),
      { ...new JobJournal(store).all()[0], id: 'other', output: '/w/o.4k.mp4', hostPid: process.ppid },
    ]);
    const journal = new JobJournal(store);
    const { queued: again } = await journal.recoverAfterRestart();
    assert.deepEqual(
      again.map((r) => [r.id, r.device]),
      [
        ['b', 'cuda'],
        ['a', 'cpu'],
      ],
      'in line order (as recorded), each on its device',
    );
    assert.deepEqual(journal.interrupted(), [], 'none of them offered for resume');
    assert.equal(journal.all().find((r) => r.id === 'other')?.phase, 'queued', 'the other window’s job left alone');
  });
});

describe('resume: checkpoints found by the engine (huaju4k jobs --json)', () => {
  const cp = (output: string, framesDone: number): EngineJobInfo => ({
    workDir: `${output}.huaju4k`,
    input: output.replace('.4k.mp4', '.mp4'),
    output,
    framesDone,
    totalFrames: 240,
    percent: Math.floor((framesDone / 240) * 100),
    updatedAt: '2026-11-21T16:50:25.611Z',
  });

  it('parses the engine listing and ignores malformed entries', () => {
    const text = JSON.stringify([cp('/w/a.4k.mp4', 48), { workDir: 3 }, 'x']);
    assert.deepEqual(
      parseEngineJobs(text).map((j) => j.output),
      ['/w/a.4k.mp4'],
    );
    assert.deepEqual(parseEngineJobs('not json'), []);
  });

  it('a checkpoint the extension never saw is offered and resumed by its work folder', () => {
    const merged = mergeResumable([], [cp('/w/a.4k.mp4', 48)]);
    assert.equal(merged.length, 1);
    assert.equal(merged[0].percent, 20);
    assert.deepEqual(resumeArgs(merged[0].record), ['resume', '/w/a.4k.mp4.huaju4k']);
  });

  it("for a remembered job the checkpoint's verified frame count wins, the arguments stay", async () => {
    const journal = new JobJournal(new MemoryStore());
    const a = { ...newJob('a', '/w/a.mp4', '/w/a.4k.mp4', 1), phase: 'interrupted' as const, frame: 70, total: 240 };
    await journal.record(a, ['enhance', '/w/a.mp4'], {});
    const merged = mergeResumable(
      listResumable(journal, () => true),
      [cp('/w/a.4k.mp4', 48)],
    );
    assert.equal(merged.length, 1);
    assert.equal(merged[0].record.frame, 48);
    assert.equal(merged[0].record.workDir, '/w/a.4k.mp4.huaju4k');
    assert.deepEqual(resumeArgs(merged[0].record), ['enhance', '/w/a.mp4', '--resume']);
  });

  it('a checkpoint a live engine is writing (re-attached after a reload) is not offered', async () => {
    const journal = new JobJournal(new MemoryStore());
    const a = { ...newJob('a', '/w/a.mp4', '/w/a.4k.mp4', 1), phase: 'interrupted' as const, frame: 70, total: 240 };
    await journal.record(a, ['enhance', '/w/a.mp4'], {});
    const merged = mergeResumable(
      listResumable(journal, () => true),
      [{ ...cp('/w/a.4k.mp4', 48), runningPid: 4242 }, cp('/w/b.4k.mp4', 24)],
    );
    assert.deepEqual(
      merged.map((j) => j.record.output),
      ['/w/b.4k.mp4'],
    );
  });
});
