import assert from 'node:assert/strict';
import { createEmitter, formatHuman } from '../../../src/engine/events';
import { downscaleRgb } from '../../../src/engine/preview';
import type { EngineEvent } from '../../../src/protocol/engine-events';

describe('engine: events', () => {
  it('emits JSON lines with timestamps, IPC messages, and human lines', () => {
    const sent: EngineEvent[] = [];
    const human: string[] = [];
    const sink = { write: (s: string) => human.push(s) } as unknown as NodeJS.WritableStream;
    const emit = createEmitter({ json: false, send: (e) => sent.push(e), human: sink, isTTY: true });
    const stage = { decode: 1, infer: 2, encode: 3 };
    emit({ type: 'progress', frame: 1, total: 4, fps: 2, etaS: 4000, stageMs: stage });
    emit({ type: 'warning', code: 'x', message: 'careful' });
    emit({ type: 'sample', rssBytes: 1, frameBufferBytes: 0, frameBufferBudgetBytes: 1, freeDiskBytes: 1 });
    assert.equal(sent.length, 3);
    assert.ok(sent.every((e) => typeof e.ts === 'number'));
    assert.match(human[0], /^\r {2}frame 1\/4 \(25\.0%\) {2}2\.00 fps {2}eta 1h06m/);
    assert.match(human[1], /^\nwarning: careful/);
    assert.match(formatHuman({ ...sent[0], etaS: 75 } as EngineEvent) ?? '', /eta 1m15s/);
    assert.match(
      formatHuman({ type: 'error', ts: 1, code: 3, reason: 'r', message: 'm', hint: 'h' }) ?? '',
      /error: m\n {2}hint: h/,
    );
    assert.match(
      formatHuman({ type: 'segment', ts: 1, index: 2, startFrame: 0, endFrame: 9, bytes: 1 }) ?? '',
      /segment 2/,
    );
  });
  it('box-downscales preview frames', () => {
    const src = new Uint8Array(4 * 2 * 3).map((_, i) => (i % 3 === 0 ? 200 : 0));
    const d = downscaleRgb(src, 4, 2, 2);
    assert.equal(d.width, 2);
    assert.equal(d.height, 1);
    assert.deepEqual([...d.data], [200, 0, 0, 200, 0, 0]);
    assert.equal(downscaleRgb(src, 4, 2, 1).data, src);
  });
});
