import assert from 'node:assert/strict';
import { describeFailure } from '../../../src/extension/jobs/failure-actions';
import { applyEngineEvent, applyExit, newJob, percentOf, progressText } from '../../../src/extension/jobs/job-state';
import type { EngineEvent, StartEvent } from '../../../src/protocol/engine-events';
import { formatDuration } from '../../../src/protocol/format';

const start: StartEvent = {
  type: 'start',
  ts: 10,
  v: 1,
  input: '/v/a.mp4',
  output: '/v/a.4k.mp4',
  probe: {} as StartEvent['probe'],
  model: { id: 'realesr-animevideov3-x4', file: 'm.onnx', scale: 4, sha256: 'x' },
  executionProvider: 'cpu',
  precision: 'fp32',
  tile: 64,
  target: { width: 256, height: 144 },
  totalFrames: 40,
  encoder: 'libx264',
  workDir: '/v/.a.4k.mp4.huaju4k',
};
const progress = (frame: number): EngineEvent => ({
  type: 'progress',
  ts: 20 + frame,
  frame,
  total: 40,
  fps: 2.5,
  etaS: (40 - frame) / 2.5,
  stageMs: { decode: 1, infer: 300, encode: 5 },
});

describe('job state: engine events → snapshot', () => {
  it('start, progress and done drive phase, frame, fps and ETA', () => {
    let job = newJob('j1', '/v/a.mp4', '/v/a.4k.mp4', 0);
    job = applyEngineEvent(job, start);
    assert.equal(job.phase, 'running');
    assert.equal(job.total, 40);
    assert.equal(job.workDir, '/v/.a.4k.mp4.huaju4k');
    job = applyEngineEvent(job, progress(10));
    assert.equal(percentOf(job), 25);
    assert.equal(progressText(job), '25% · 10/40 · 2.5 fps · ETA 0:12');
    job = applyEngineEvent(job, {
      type: 'done',
      ts: 99,
      output: '/v/a.4k.mp4',
      frames: 40,
      seconds: 16,
      report: {} as Extract<EngineEvent, { type: 'done' }>['report'],
    });
    assert.equal(job.phase, 'done');
    assert.equal(applyExit(job, 0, null, false, 100).phase, 'done');
  });

  it('a resumed start continues the percentage from the resume frame', () => {
    const job = applyEngineEvent(newJob('j', 'a', 'b', 0), { ...start, resumeFromFrame: 30 });
    assert.equal(percentOf(job), 75);
  });

  it('ignores events it does not map, without changing the snapshot', () => {
    const job = newJob('j', 'a', 'b', 0);
    const sample: EngineEvent = {
      type: 'sample',
      ts: 1,
      rssBytes: 1,
      frameBufferBytes: 0,
      frameBufferBudgetBytes: 1,
      freeDiskBytes: 1,
    };
    assert.equal(applyEngineEvent(job, sample), job);
  });

  it('classifies exits: killed → interrupted, disk → interrupted, bad input → failed, cancel → cancelled', () => {
    const running = applyEngineEvent(applyEngineEvent(newJob('j', '/v/a.mp4', '/v/a.4k.mp4', 0), start), progress(20));
    const killed = applyExit(running, null, 'SIGKILL', false, 5);
    assert.equal(killed.phase, 'interrupted');
    assert.match(killed.failure?.message ?? '', /SIGKILL at frame 20/);
    const withError = applyEngineEvent(running, {
      type: 'error',
      ts: 3,
      code: 2,
      reason: 'no-video-stream',
      message: 'a.mp4 has no video stream',
    });
    assert.equal(applyExit(withError, 2, null, false, 5).phase, 'failed');
    assert.equal(applyExit(running, 4, null, false, 5).phase, 'interrupted');
    assert.equal(applyExit(running, 5, null, false, 5).phase, 'cancelled');
    assert.equal(applyExit(running, null, 'SIGTERM', true, 5).phase, 'cancelled');
    assert.equal(applyExit(running, 1, null, false, 5).failure?.reason, 'engine-exit');
  });

  it('formats durations', () => {
    assert.equal(formatDuration(5), '0:05');
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatDuration(Number.NaN), '—');
  });
});

describe('failure messages offer the action that fixes them', () => {
  const base = applyEngineEvent(newJob('j', '/v/clip.mp4', '/v/clip.4k.mp4', 0), start);
  const fail = (code: number, reason: string, message: string, exit: number | null = code) =>
    describeFailure(
      applyExit(
        applyEngineEvent(base, { type: 'error', ts: 1, code: code as 1, reason, message }),
        exit,
        null,
        false,
        2,
      ),
    );

  it('ffmpeg missing → Install ffmpeg + Open settings on huaju4k.ffmpegPath', () => {
    const m = fail(3, 'ffmpeg-missing', 'ffmpeg was not found on PATH');
    assert.deepEqual(m.actions, ['installFfmpeg', 'openSettings', 'showLog']);
    assert.equal(m.settingsQuery, 'huaju4k.ffmpegPath');
    assert.match(m.text, /ffmpeg was not found/);
  });

  it('a bad option names the file and offers settings', () => {
    const m = fail(2, 'usage', '--crf must be an integer from 0 to 51');
    assert.match(m.text, /cannot enhance clip\.mp4: --crf must be/);
    assert.deepEqual(m.actions, ['openSettings', 'showLog']);
  });

  it('a file that is not a video says so in words and offers no settings (they cannot help)', () => {
    for (const reason of ['not-a-video', 'no-video-stream', 'input-is-image']) {
      const m = fail(2, reason, '/v/clip.mp4 is not a video ffmpeg can read');
      assert.match(m.text, /cannot enhance clip\.mp4: \/v\/clip\.mp4 is not a video/);
      assert.deepEqual(m.actions, ['showLog'], reason);
    }
  });

  it('a cancel says what it kept: frames → Resume; none → start again, no Resume', () => {
    const cancel = (framesKept: number) =>
      describeFailure(
        applyExit(
          applyEngineEvent(base, { type: 'error', ts: 1, code: 5, reason: 'cancelled', message: 'c', framesKept }),
          5,
          null,
          true,
          2,
        ),
      );
    const none = cancel(0);
    assert.match(none.text, /no progress is kept/);
    assert.doesNotMatch(none.text, /you can resume/);
    assert.deepEqual(none.actions, ['retry', 'showLog']);
    const some = cancel(200);
    assert.match(some.text, /200 frames are kept; you can resume/);
    assert.deepEqual(some.actions, ['resume', 'showLog']);
  });

  it('disk guard stop → Resume + disk settings', () => {
    const m = fail(4, 'disk-budget', 'free space would drop below 2 GiB');
    assert.deepEqual(m.actions, ['resume', 'openSettings']);
    assert.equal(m.settingsQuery, 'huaju4k.disk');
  });

  it('command-line advice from the engine ("continue with --resume") is not shown to extension users', () => {
    const stopped = applyExit(
      applyEngineEvent(base, {
        type: 'error',
        ts: 1,
        code: 4,
        reason: 'disk-budget',
        message: 'the job would exceed its disk budget',
        hint: 'finished segments are kept; continue with --resume (or: huaju4k resume <output>)',
      }),
      4,
      null,
      false,
      2,
    );
    const m = describeFailure(stopped);
    assert.doesNotMatch(m.text, /--resume|huaju4k resume/, m.text);
    assert.ok(m.actions.includes('resume'));
  });

  it('a killed engine → Resume', () => {
    const m = describeFailure(applyExit(base, null, 'SIGKILL', false, 3));
    assert.ok(m.actions.includes('resume'));
    assert.match(m.text, /interrupted at 0%/);
  });

  it('an existing checkpoint → Resume (not a settings problem)', () => {
    const m = fail(
      2,
      'job-exists',
      'an interrupted job for /v/clip.4k.mp4 is in /v/clip.4k.mp4.huaju4k (2 segments done)',
    );
    assert.deepEqual(m.actions, ['resume', 'showLog']);
    assert.match(m.text, /already has an interrupted enhancement: .*\(2 segments done\)\. Resume it/);
  });

  it('a source already at the target → says so and offers the target setting, with the choices', () => {
    const m = fail(
      2,
      'already-at-target',
      '/v/clip.mp4 is already 3840×2160, at or above the 3840×2160 target: nothing to upscale',
    );
    assert.equal(m.severity, 'warning');
    assert.deepEqual(m.actions, ['openSettings', 'showLog']);
    assert.equal(m.settingsQuery, 'huaju4k.target');
    assert.match(
      m.text,
      /already 3840×2160.*nothing to upscale\. To enhance it, choose a larger size in huaju4k\.target/,
    );
    assert.match(m.text, /huaju4k\.scale .*"--same-size" to huaju4k\.extraArgs/);
  });

  it('anything else → Retry + Show log', () => {
    assert.deepEqual(fail(1, 'internal', 'boom').actions, ['retry', 'showLog']);
  });
});
