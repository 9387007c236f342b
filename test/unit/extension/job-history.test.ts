import assert from 'node:assert/strict';
import { JobHistory, MAX_HISTORY } from '../../../src/extension/jobs/job-history';
import type { KeyValueStore } from '../../../src/extension/jobs/job-journal';
import { type JobPhase, newJob } from '../../../src/extension/jobs/job-state';
import { historyRow } from '../../../src/extension/jobs/jobs-model';

class MapStore implements KeyValueStore {
  readonly map = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.map.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    // What a reload sees: a JSON copy, as VS Code's storage keeps it.
    this.map.set(key, JSON.parse(JSON.stringify(value)));
  }
}

const ended = (id: string, phase: JobPhase, message?: string) => ({
  ...newJob(id, `/v/${id}.mp4`, `/v/${id}.4k.mp4`, 1000),
  phase,
  frame: 12,
  total: 48,
  updatedAt: 61_000,
  ...(message && { failure: { exitCode: 1, signal: null, reason: 'x', message } }),
});

describe('JobHistory: finished jobs that survive a reload', () => {
  it('keeps ended jobs newest first, once per id, and ignores running ones', async () => {
    const store = new MapStore();
    const h = new JobHistory(store);
    let fired = 0;
    h.onDidChange(() => fired++);
    await h.add(ended('a', 'done'));
    await h.add(ended('b', 'failed', 'ffmpeg exited 1'));
    await h.add({ ...ended('c', 'running') });
    await h.add(ended('a', 'done'));
    assert.deepEqual(
      new JobHistory(store).all().map((e) => `${e.id}:${e.phase}`),
      ['a:done', 'b:failed'],
    );
    assert.equal(fired, 3);
    assert.equal(new JobHistory(store).get('b')?.message, 'ffmpeg exited 1');
  });

  it('is bounded, and entries can be removed or cleared', async () => {
    const h = new JobHistory(new MapStore());
    for (let i = 0; i < MAX_HISTORY + 5; i++) await h.add(ended(`j${i}`, 'done'));
    assert.equal(h.all().length, MAX_HISTORY);
    assert.equal(h.all()[0].id, `j${MAX_HISTORY + 4}`);
    await h.remove([`j${MAX_HISTORY + 4}`]);
    assert.equal(h.all()[0].id, `j${MAX_HISTORY + 3}`);
    await h.clear();
    assert.deepEqual(h.all(), []);
  });

  it('a history row says how it ended, how long it took and where it was', () => {
    const h = new JobHistory(new MapStore());
    void h.add(ended('a', 'done'));
    void h.add(ended('b', 'cancelled', 'cancelled by the user'));
    const [b, a] = h.all().map(historyRow);
    assert.equal(a.description, 'done in 1:00 · v');
    assert.equal(a.contextValue, 'job.done');
    assert.equal(b.description, 'cancelled at 25% · v');
    assert.match(b.tooltip, /cancelled by the user/);
  });
});
