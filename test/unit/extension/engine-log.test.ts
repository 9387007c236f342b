import assert from 'node:assert/strict';
import { engineEventLog, engineExitLog } from '../../../src/extension/engine/engine-log';
import { ExitCode } from '../../../src/protocol/engine-events';
import { doneEvent, errorEvent, progressEvent, startEvent, T0, warningEvent } from '../monitor/engine-event-fixtures';

describe('job log: engine events → lines', () => {
  it('logs progress once per 10 % step, as info, never per frame', () => {
    let before = { frame: 0, total: 100 };
    const lines = [];
    for (let frame = 1; frame <= 100; frame++) {
      const logged = engineEventLog(progressEvent(T0 + frame, frame, { fps: 2.5, etaS: 100 - frame }), before, false);
      if (logged) lines.push(logged);
      before = { frame, total: 100 };
    }
    assert.deepEqual(
      lines.map((l) => l.line.split(':')[0]),
      [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((p) => `progress ${p}%`),
    );
    assert.ok(lines.every((l) => l.level === 'info'));
    assert.equal(lines[0].line, 'progress 10%: frame 10/100, 2.5 fps, ETA 1:30');
    assert.equal(lines[9].line, 'progress 100%: frame 100/100, 2.5 fps', 'no ETA once every frame is done');
    // A resumed run that starts past 40 % does not log the steps it skipped one by one.
    assert.equal(
      engineEventLog(progressEvent(T0, 45), { frame: 40, total: 100 }, false)?.line.startsWith('progress 40%'),
      undefined,
    );
    assert.match(engineEventLog(progressEvent(T0, 51), { frame: 45, total: 100 }, false)?.line ?? '', /^progress 51%/);
  });

  it('a cancel the user asked for is info; one nobody asked for a warning; failures are errors', () => {
    const cancelled = errorEvent(T0, ExitCode.cancelled, 'Cancelled at frame 30; resume continues from it.');
    assert.deepEqual(engineEventLog(cancelled, { frame: 30, total: 100 }, true), {
      line: 'cancelled: Cancelled at frame 30; resume continues from it.',
      level: 'info',
    });
    assert.equal(engineEventLog(cancelled, { frame: 30, total: 100 }, false)?.level, 'warn');
    assert.equal(engineEventLog(errorEvent(T0, ExitCode.failure, 'x'), { frame: 0, total: 0 }, true)?.level, 'error');
    assert.equal(engineEventLog(warningEvent(T0, 'interlaced'), { frame: 0, total: 0 }, false)?.level, 'warn');
    assert.equal(engineEventLog(startEvent(), { frame: 0, total: 0 }, false)?.level, 'info');
    assert.equal(engineEventLog(doneEvent(T0, 100), { frame: 100, total: 100 }, false)?.level, 'info');
  });

  it('the exit is info when the job ended as it should', () => {
    assert.deepEqual(engineExitLog(0, null, 'done'), { line: 'engine exited (code 0): done', level: 'info' });
    assert.equal(engineExitLog(5, null, 'cancelled').level, 'info');
    assert.deepEqual(engineExitLog(null, 'SIGKILL', 'interrupted'), {
      line: 'engine exited (signal SIGKILL): interrupted',
      level: 'warn',
    });
    assert.equal(engineExitLog(1, null, 'failed').level, 'warn');
  });
});
