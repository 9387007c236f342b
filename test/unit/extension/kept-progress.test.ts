import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { JobHistory } from '../../../src/extension/jobs/job-history';
import { JobJournal } from '../../../src/extension/jobs/job-journal';
import { JobManager } from '../../../src/extension/jobs/job-manager';
import { applyEngineEvent, applyExit, type JobSnapshot, newJob } from '../../../src/extension/jobs/job-state';
import { historyRow } from '../../../src/extension/jobs/jobs-model';
import { listResumable, resumePickItem } from '../../../src/extension/jobs/resume';
import { stateLabel, videoState } from '../../../src/extension/videos/videos-model';
import type { EngineEvent } from '../../../src/protocol/engine-events';
import { applyEngineEvent as applyToView, initialViewState } from '../../../webview/view-model';
import { basicClip, FAST_MODEL, freshDir, ROOT } from '../engine/helpers';
import { until } from '../until';
import { memoryStore } from './memory-store';

const progress = (frame: number): EngineEvent => ({
  type: 'progress',
  ts: 20 + frame,
  frame,
  total: 16,
  fps: 2,
  etaS: 1,
  stageMs: { decode: 1, infer: 300, encode: 5 },
});
const cancelled = (framesKept: number): EngineEvent => ({
  type: 'error',
  ts: 99,
  code: 5,
  reason: 'cancelled',
  message: 'cancelled',
  framesKept,
});

/** The case: 16 frames processed, a cancel, the engine keeps `kept` of them in closed segments. */
function cancelAfterAll(kept: number): { job: JobSnapshot; events: EngineEvent[] } {
  const events = [progress(16), cancelled(kept)];
  let job: JobSnapshot = { ...newJob('j', '/w/a.mp4', '/w/a.4k.mp4', 1), phase: 'running' };
  for (const ev of events) job = applyEngineEvent(job, ev);
  return { job: applyExit(job, 5, null, true, 100), events };
}

describe('one truth for progress: after a stop every view says what is kept, not what was processed', () => {
  it('10 of 16 kept: the Videos view, the Jobs view, the resume picker and the monitor all say 62 %', async () => {
    const { job, events } = cancelAfterAll(10);
    assert.equal(job.frame, 10);
    assert.equal(job.framesProcessed, 16, 'what was processed is still known (the log)');
    assert.equal(stateLabel(videoState({ path: job.input, relPath: 'a.mp4', job })), 'interrupted 62%');
    const history = new JobHistory(memoryStore());
    await history.add(job);
    assert.match(historyRow(history.all()[0]).description, /^cancelled at 62%/);
    const journal = new JobJournal(memoryStore());
    await journal.record(job, ['enhance', job.input], {});
    const [resumable] = listResumable(journal, () => true);
    assert.equal(resumePickItem(resumable).description, '62% kept · 10/16 frames');
    const view = events.reduce(applyToView, initialViewState('j'));
    assert.equal(view.progress?.frame, 10);
    assert.equal(view.progress?.fraction, 10 / 16);
  });

  it('nothing kept: Retry, not Resume, everywhere (not in the picker, the video offered Enhance)', async () => {
    const { job } = cancelAfterAll(0);
    assert.equal(job.frame, 0);
    assert.equal(videoState({ path: job.input, relPath: 'a.mp4', job }).kind, 'not-enhanced');
    const journal = new JobJournal(memoryStore());
    await journal.record(job, ['enhance', job.input], {});
    assert.deepEqual(
      listResumable(journal, () => true),
      [],
      'no resume offered',
    );
  });

  it('a remembered job whose work folder is gone is not offered for resume (the engine would start from 0)', async () => {
    const job = { ...newJob('k', '/w/b.mp4', '/w/b.4k.mp4', 1), phase: 'interrupted' as const, frame: 9, total: 60 };
    const journal = new JobJournal(memoryStore());
    await journal.record(job, ['enhance', job.input], {});
    assert.equal(listResumable(journal, (p) => p === job.input).length, 0);
    assert.equal(listResumable(journal, () => true).length, 1);
  });

  it('the real engine cancelled mid-job: the job ends on the frames its closed segments hold', async function () {
    this.timeout(300_000);
    const dir = freshDir('huaju4k-kept-');
    const output = join(dir, 'clip.4k.mp4');
    const env = {
      NODE_OPTIONS: `--import=${pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href}`,
      HUAJU4K_PROGRESS_EVERY_MS: '0',
    };
    const jobs = new JobManager({ enginePath: join(ROOT, 'src/engine/cli.ts'), perDevice: 1 });
    const args = ['enhance', basicClip(400), '-o', output, '--model', FAST_MODEL, '--tile', '0', '--scale', '4'];
    const job = jobs.enqueue({
      input: basicClip(400),
      output,
      args: [...args, '--segment-frames', '4'],
      env,
      device: 'cpu',
    });
    await until('past two segments', () => (jobs.get(job.id)?.frame ?? 0) >= 10, 120_000, 20);
    jobs.cancel(job.id);
    const end = await jobs.whenFinished(job.id);
    await jobs.dispose();
    assert.equal(end.phase, 'cancelled');
    const kept = end.failure?.framesKept ?? -1;
    assert.ok(kept >= 8 && kept % 4 === 0, `whole segments kept: ${kept}`);
    assert.equal(end.frame, kept, 'the job says what is kept');
    assert.ok((end.framesProcessed ?? end.frame) >= kept, 'and still knows what was processed');
  });
});
