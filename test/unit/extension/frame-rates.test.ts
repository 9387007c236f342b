import assert from 'node:assert/strict';
import { FrameRates, modelPixels, type RunKind } from '../../../src/extension/enhance/frame-rates';
import type { DoneEvent, StartEvent } from '../../../src/protocol/engine-events';
import { doneEvent, errorEvent, startEvent, T0 } from '../monitor/engine-event-fixtures';
import { memoryStore } from './memory-store';

// The fixture's run: realesr-general-x4v3 on the CPU in fp32, a 160×90 source (no plan: the source is the model input).
const PIXELS = 160 * 90;
const kind = (over: Partial<RunKind> = {}): RunKind => ({
  model: 'realesr-general-x4v3',
  executionProvider: 'cpu',
  precision: 'fp32',
  modelPixels: PIXELS,
  ...over,
});
const done = (frames: number, steadyFrameMs: number | undefined): DoneEvent => {
  const ev = doneEvent(T0 + 60_000, frames);
  return { ...ev, report: { ...ev.report, ...(steadyFrameMs !== undefined && { steadyFrameMs }) } };
};
/** Equal but for floating-point rounding (a rate is kept per pixel and scaled back). */
const near = (actual: number | undefined, expected: number, message?: string) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${actual} ≠ ${expected} ${message ?? ''}`);
/** Lets the store's update (a promise, like VS Code's Memento) settle. */
const settled = () => new Promise((r) => setImmediate(r));

describe('Enhance to 4K As…: this machine’s measured time per frame (FrameRates)', () => {
  it('learns the steady time per frame from a finished run and scales it by the model-input pixels', async () => {
    const store = memoryStore();
    const rates = new FrameRates(store);
    assert.equal(rates.secondsPerFrame(kind()), undefined, 'nothing measured yet');
    rates.observe('a', startEvent());
    rates.observe('a', done(100, 400));
    await settled();
    near(rates.secondsPerFrame(kind()), 0.4);
    near(rates.secondsPerFrame(kind({ modelPixels: PIXELS * 4 })), 1.6, 'four times the pixels');
    // Kept in the store: another window (or the next session) reads it.
    near(new FrameRates(store).secondsPerFrame(kind()), 0.4);
  });

  it('keeps rates per model, provider and arithmetic, and times a frame by the median of the last five runs', async () => {
    const rates = new FrameRates(memoryStore());
    const run = async (id: string, ms: number, precision: StartEvent['precision'] = 'fp32') => {
      rates.observe(id, startEvent(T0, { precision }));
      rates.observe(id, done(100, ms));
      await settled();
    };
    await run('a', 400);
    await run('b', 200, 'int8');
    near(rates.secondsPerFrame(kind()), 0.4);
    near(rates.secondsPerFrame(kind({ precision: 'int8' })), 0.2);
    assert.equal(rates.secondsPerFrame(kind({ executionProvider: 'cuda' })), undefined);
    assert.equal(rates.secondsPerFrame(kind({ model: 'realesr-animevideov3-x4' })), undefined);
    await run('c', 300);
    near(rates.secondsPerFrame(kind()), 0.35, 'the median of two runs: their mean');
    // One run of static footage (most tiles reused) does not make the next estimate as quick.
    await run('static', 50);
    near(rates.secondsPerFrame(kind()), 0.3);
    await run('d', 500);
    await run('e', 600);
    near(rates.secondsPerFrame(kind()), 0.4, 'of 400, 300, 50, 500, 600');
    await run('f', 700);
    near(rates.secondsPerFrame(kind()), 0.5, 'the oldest (400) dropped: 300, 50, 500, 600, 700');
    near(rates.secondsPerFrame(kind({ precision: 'int8' })), 0.2, 'the other arithmetic untouched');
  });

  it('uses the plan’s model input as the pixels a rate is per', async () => {
    const plan: StartEvent['plan'] = {
      modelInput: { width: 320, height: 180 },
      modelOutput: { width: 1280, height: 720 },
      picture: { width: 1280, height: 720 },
      sameSize: false,
    };
    assert.equal(modelPixels(startEvent(T0, { plan })), 320 * 180);
    const rates = new FrameRates(memoryStore());
    rates.observe('a', startEvent(T0, { plan }));
    rates.observe('a', done(100, 400));
    await settled();
    near(rates.secondsPerFrame(kind({ modelPixels: 320 * 180 })), 0.4);
  });

  it('keeps nothing from a run still warming up, a failed run, a run without the steady time or another job', async () => {
    const rates = new FrameRates(memoryStore());
    rates.observe('short', startEvent());
    rates.observe('short', done(5, 400));
    rates.observe('failed', startEvent());
    rates.observe('failed', errorEvent(T0 + 1, 3, 'ffmpeg failed'));
    rates.observe('failed', done(100, 400));
    rates.observe('old-engine', startEvent());
    rates.observe('old-engine', done(100, undefined));
    rates.observe('unseen-start', done(100, 400));
    // A resume that ran 8 frames itself: its done counts the 92 kept before.
    rates.observe('resumed', startEvent(T0, { resumeFromFrame: 92 }));
    rates.observe('resumed', done(100, 400));
    await settled();
    assert.equal(rates.secondsPerFrame(kind()), undefined);
  });

  it('ignores what is not a positive rate in the store', () => {
    const store = memoryStore();
    void store.update('huaju4k.frameRates.v1', {
      'realesr-general-x4v3|cpu|fp32': 'fast',
      'realesr-general-x4v3|cpu|int8': [-1, 'slow', 0],
      'realesr-general-x4v3|cpu|fp16': [null, 2e-5],
    });
    const rates = new FrameRates(store);
    assert.equal(rates.secondsPerFrame(kind()), undefined);
    assert.equal(rates.secondsPerFrame(kind({ precision: 'int8' })), undefined);
    near(rates.secondsPerFrame(kind({ precision: 'fp16', modelPixels: 1e4 })), 0.2);
  });
});
