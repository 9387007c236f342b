import assert from 'node:assert/strict';
import { ExitCode } from '../../../src/protocol/engine-events';
import { WEBVIEW_PROTOCOL_VERSION as v } from '../../../src/protocol/webview-messages';
import { MonitorStore } from '../../../webview/store';
import {
  applyEngineEvent,
  cancelRefused,
  displayStatus,
  initialViewState,
  MAX_WARNINGS,
  MonitorSeries,
  reduceView,
  requestCancel,
} from '../../../webview/view-model';
import {
  doneEvent,
  errorEvent,
  gpuState,
  previewEvent,
  progressEvent,
  sampleEvent,
  segmentEvent,
  startEvent,
  T0,
  warningEvent,
} from './engine-event-fixtures';

describe('monitor view model: engine events → view state', () => {
  it('maps start to the job header and a running status', () => {
    const s = applyEngineEvent(initialViewState('j'), startEvent(T0, { tile: 192, executionProvider: 'webgpu' }));
    assert.equal(s.status, 'running');
    assert.equal(s.header?.model, 'realesr-general-x4v3');
    assert.equal(s.header?.executionProvider, 'webgpu');
    assert.equal(s.header?.tile, 192);
    assert.deepEqual(s.header?.source, { width: 160, height: 90, fps: 25, durationS: 4 });
    assert.deepEqual(s.header?.target, { width: 3840, height: 2160 });
    assert.equal(s.header?.startedTs, T0);
  });

  it('shows exactly the numbers of the last progress event', () => {
    let s = applyEngineEvent(initialViewState('j'), startEvent());
    const last = progressEvent(T0 + 9000, 40, { fps: 3.75, etaS: 16, reuseRatio: 0.4 });
    s = applyEngineEvent(applyEngineEvent(s, progressEvent(T0 + 5000, 20)), last);
    assert.equal(s.progress?.frame, 40);
    assert.equal(s.progress?.total, 100);
    assert.equal(s.progress?.fraction, 0.4);
    assert.equal(s.progress?.fps, 3.75);
    assert.equal(s.progress?.etaS, 16);
    assert.equal(s.progress?.reuseRatio, 0.4);
    assert.deepEqual(s.progress?.stageMs, last.stageMs);
  });

  it('clamps the fraction and falls back to the header total', () => {
    let s = applyEngineEvent(initialViewState('j'), startEvent(T0, { totalFrames: 50 }));
    s = applyEngineEvent(s, progressEvent(T0 + 1, 80, { total: 0 }));
    assert.equal(s.progress?.total, 50);
    assert.equal(s.progress?.fraction, 1);
  });

  it('maps samples to resources and a clear CPU or GPU state', () => {
    let s = applyEngineEvent(initialViewState('j'), startEvent(T0, { executionProvider: 'cuda' }));
    assert.equal(s.gpu.mode, 'unknown');
    assert.equal(applyEngineEvent(initialViewState('j'), startEvent()).gpu.mode, 'cpu');
    s = applyEngineEvent(s, sampleEvent(T0 + 1000));
    assert.equal(s.gpu.mode, 'cpu');
    assert.match(s.gpu.mode === 'cpu' ? s.gpu.reason : '', /nvidia-smi/);
    assert.equal(s.resources?.freeDiskBytes, 80 * 1024 ** 3);
    s = applyEngineEvent(s, sampleEvent(T0 + 2000, { gpu: gpuState(2 * 1024 ** 3) }));
    assert.deepEqual(s.gpu, {
      mode: 'gpu',
      name: 'NVIDIA GeForce RTX 3060',
      usedBytes: 2 * 1024 ** 3,
      totalBytes: 12 * 1024 ** 3,
      budgetBytes: 6 * 1024 ** 3,
    });
    // A sample without gpu info keeps the last known state.
    const { gpu: _omit, ...noGpu } = sampleEvent(T0 + 3000);
    s = applyEngineEvent(s, noGpu);
    assert.equal(s.gpu.mode, 'gpu');
  });

  it('keeps only the newest preview, counts segments and bounds warnings', () => {
    let s = applyEngineEvent(initialViewState('j'), startEvent());
    s = applyEngineEvent(s, previewEvent(T0 + 1, 1, 'AAAA', 'BBBB'));
    s = applyEngineEvent(s, previewEvent(T0 + 2, 9, 'CCCC', 'DDDD'));
    assert.equal(s.preview?.frame, 9);
    assert.equal(s.preview?.output, 'DDDD');
    s = applyEngineEvent(applyEngineEvent(s, segmentEvent(T0 + 3, 0, 1000)), segmentEvent(T0 + 4, 1, 500));
    assert.deepEqual(s.segments, { count: 2, bytes: 1500 });
    for (let i = 0; i < MAX_WARNINGS + 3; i++) s = applyEngineEvent(s, warningEvent(T0 + 10 + i, `w${i}`));
    assert.equal(s.warnings.length, MAX_WARNINGS);
    assert.equal(s.warnings.at(-1)?.message, `w${MAX_WARNINGS + 2}`);
  });

  it('tells cancelled from failed, and done completes the bar', () => {
    const base = applyEngineEvent(applyEngineEvent(initialViewState('j'), startEvent()), progressEvent(T0 + 1, 30));
    assert.equal(applyEngineEvent(base, errorEvent(T0 + 2, ExitCode.cancelled, 'Cancelled')).status, 'cancelled');
    const failed = applyEngineEvent(base, errorEvent(T0 + 2, ExitCode.failure, 'ffmpeg exited with 1'));
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.message, 'ffmpeg exited with 1');
    const done = applyEngineEvent(base, doneEvent(T0 + 3, 100));
    assert.equal(done.status, 'done');
    assert.equal(done.progress?.fraction, 1);
    assert.equal(done.progress?.frame, 100);
    assert.equal(done.done?.avgFps, 2.3);
    assert.equal(done.done?.audio, undefined, 'no audio part with --audio copy');
    const ev = doneEvent(T0 + 3, 100);
    const audio = {
      mode: 'clean' as const,
      before: { integratedLufs: -30, truePeakDb: -6, noiseFloorDb: -50, speechDb: -27 },
      after: { integratedLufs: -16, noiseFloorDb: -64, speechDb: -13 },
    };
    const treated = applyEngineEvent(base, { ...ev, report: { ...ev.report, audio } });
    assert.deepEqual(treated.done?.audio, audio);
  });

  it('says Cancelling… from the click until the job ends, and Finalizing once every frame is upscaled', () => {
    const running = applyEngineEvent(applyEngineEvent(initialViewState('j'), startEvent()), progressEvent(T0 + 1, 30));
    assert.equal(displayStatus(running), 'running');
    const cancelling = requestCancel(running);
    assert.equal(displayStatus(cancelling), 'cancelling');
    assert.equal(running.cancelRequested, false, 'not mutated');
    // Progress events still arrive while the engine checkpoints: the word stays.
    assert.equal(displayStatus(applyEngineEvent(cancelling, progressEvent(T0 + 2, 31))), 'cancelling');
    const ended = applyEngineEvent(cancelling, errorEvent(T0 + 3, ExitCode.cancelled, 'Cancelled'));
    assert.equal(displayStatus(ended), 'cancelled');
    assert.equal(displayStatus(cancelRefused(cancelling)), 'running', 'a refused cancel is not cancelling');
    assert.equal(requestCancel(ended), ended, 'nothing to cancel once ended');
    assert.equal(requestCancel(initialViewState('j')).cancelRequested, false);
    assert.equal(displayStatus(applyEngineEvent(cancelling, startEvent(T0 + 9))), 'running', 'a new run starts clean');

    const last = applyEngineEvent(running, progressEvent(T0 + 4, 100));
    assert.equal(displayStatus(applyEngineEvent(running, progressEvent(T0 + 4, 99))), 'running');
    assert.equal(displayStatus(last), 'finalizing');
    assert.equal(displayStatus(applyEngineEvent(last, doneEvent(T0 + 5, 100))), 'done');
    assert.equal(displayStatus(applyEngineEvent(last, errorEvent(T0 + 5, ExitCode.failure, 'x'))), 'failed');
  });

  it('never mutates the state it is given', () => {
    const s0 = applyEngineEvent(initialViewState('j'), startEvent());
    const frozen = JSON.stringify(s0);
    applyEngineEvent(s0, progressEvent(T0 + 1, 5));
    applyEngineEvent(s0, warningEvent(T0 + 2, 'x'));
    assert.equal(JSON.stringify(s0), frozen);
  });
});

describe('monitor view model: host messages', () => {
  it('ends as the tree says: disk guard (exit 4) interrupted; an engine killed without an error event not "Running"', () => {
    const running = reduceView(initialViewState(), { v, type: 'engineEvent', jobId: 'a', event: startEvent() });
    const disk = reduceView(running, {
      v,
      type: 'engineEvent',
      jobId: 'a',
      event: errorEvent(T0 + 1, ExitCode.disk, 'free space would drop below 2 GiB'),
    });
    assert.equal(disk.status, 'interrupted', 'the same word as the Videos tree');
    const killed = reduceView(running, {
      v,
      type: 'jobEnded',
      jobId: 'a',
      phase: 'interrupted',
      message: 'The engine was stopped by SIGKILL at frame 3.',
    });
    assert.equal(killed.status, 'interrupted');
    assert.equal(killed.error?.message, 'The engine was stopped by SIGKILL at frame 3.');
    assert.equal(reduceView(running, { v, type: 'jobEnded', jobId: 'other', phase: 'failed' }), running);
  });

  it('ignores late events of another job but follows a new start', () => {
    let s = reduceView(initialViewState(), { v, type: 'engineEvent', jobId: 'a', event: startEvent() });
    assert.equal(s.jobId, 'a');
    s = reduceView(s, { v, type: 'engineEvent', jobId: 'b', event: progressEvent(T0 + 1, 99) });
    assert.equal(s.progress, null);
    assert.equal(s.ignoredEvents, 1);
    s = reduceView(s, { v, type: 'engineEvent', jobId: 'b', event: startEvent(T0 + 2, { input: '/x/b.mkv' }) });
    assert.equal(s.jobId, 'b');
    assert.equal(s.header?.input, '/x/b.mkv');
  });

  it('init replays events, backends survive job switches', () => {
    const rows = [{ name: 'lab', url: 'http://h:1', reachable: false, error: 'ECONNREFUSED' }];
    let s = reduceView(initialViewState(), {
      v,
      type: 'init',
      jobId: 'j',
      events: [startEvent(), progressEvent(T0 + 1000, 10), sampleEvent(T0 + 1000)],
      backends: rows,
    });
    assert.equal(s.progress?.frame, 10);
    assert.equal(s.backends?.[0].error, 'ECONNREFUSED');
    s = reduceView(s, { v, type: 'engineEvent', jobId: 'k', event: startEvent(T0 + 5000) });
    assert.deepEqual(s.backends, rows);
    assert.equal(initialViewState().backends, null);
  });
});

describe('monitor: chart series and store', () => {
  it('fills each chart from its events, VRAM only with a GPU', () => {
    const series = new MonitorSeries(4);
    series.apply(startEvent());
    series.apply(progressEvent(T0 + 1000, 1, { fps: 2 }));
    series.apply(sampleEvent(T0 + 1000));
    series.apply(sampleEvent(T0 + 2000, { gpu: gpuState(1024) }));
    assert.deepEqual(series.throughput.data(), [[T0 / 1000 + 1], [2]]);
    assert.equal(series.memory.length, 2);
    assert.equal(series.disk.length, 2);
    assert.deepEqual(series.vram.data(), [[T0 / 1000 + 2], [1024], [6 * 1024 ** 3]]);
    for (let i = 0; i < 10; i++) series.apply(progressEvent(T0 + 3000 + i * 1000, i));
    assert.equal(series.throughput.length, 4);
  });

  it('store.update applies a user change without touching the series, and tells no one when nothing changed', () => {
    const store = new MonitorStore(8);
    store.dispatch({ v, type: 'engineEvent', jobId: 'a', event: startEvent() });
    store.dispatch({ v, type: 'engineEvent', jobId: 'a', event: progressEvent(T0 + 1, 3) });
    const changes: boolean[] = [];
    store.subscribe((c) => changes.push(c.seriesChanged));
    store.update(requestCancel);
    store.update(requestCancel);
    assert.deepEqual(changes, [false]);
    assert.equal(displayStatus(store.state), 'cancelling');
    assert.equal(store.series.throughput.length, 1);
  });

  it('resets the series when a new job starts and refills them on init', () => {
    const store = new MonitorStore(100);
    let changes = 0;
    store.subscribe(() => changes++);
    store.dispatch({ v, type: 'engineEvent', jobId: 'a', event: startEvent() });
    store.dispatch({ v, type: 'engineEvent', jobId: 'a', event: progressEvent(T0 + 1000, 1) });
    store.dispatch({ v, type: 'engineEvent', jobId: 'a', event: progressEvent(T0 + 2000, 2) });
    assert.equal(store.series.throughput.length, 2);
    store.dispatch({ v, type: 'engineEvent', jobId: 'b', event: startEvent(T0 + 3000) });
    assert.equal(store.series.throughput.length, 0);
    assert.equal(store.state.jobId, 'b');
    store.dispatch({
      v,
      type: 'init',
      jobId: 'a',
      events: [startEvent(), progressEvent(T0 + 1000, 1), sampleEvent(T0 + 1000)],
      backends: null,
    });
    assert.equal(store.series.throughput.length, 1);
    assert.equal(store.series.memory.length, 1);
    assert.equal(store.state.jobId, 'a');
    assert.equal(changes, 5);
  });
});
