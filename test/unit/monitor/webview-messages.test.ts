import assert from 'node:assert/strict';
import {
  MAX_BACKEND_FRAME_BASE64_CHARS,
  parseHostMessage,
  parseWebviewMessage,
  validateEngineEventForView,
  WEBVIEW_PROTOCOL_VERSION,
} from '../../../src/protocol/webview-messages';
import { previewEvent, progressEvent, sampleEvent, startEvent, T0 } from './engine-event-fixtures';

const v = WEBVIEW_PROTOCOL_VERSION;
const b64 = Buffer.from('not really a jpeg').toString('base64');

describe('monitor protocol: webview → host', () => {
  it('accepts ready, requests and logs', () => {
    assert.deepEqual(parseWebviewMessage({ v, type: 'ready' }), { ok: true, message: { v, type: 'ready' } });
    const req = parseWebviewMessage({ v, type: 'request', id: 7, method: 'cancel', jobId: 'job-1' });
    assert.ok(req.ok && req.message.type === 'request' && req.message.method === 'cancel' && req.message.id === 7);
    const log = parseWebviewMessage({ v, type: 'log', level: 'warn', message: 'x'.repeat(5000) });
    assert.ok(log.ok && log.message.type === 'log');
    assert.equal(log.ok && log.message.type === 'log' ? log.message.message.length : 0, 2000);
  });

  it('rejects other versions, unknown types and methods, and bad ids with a reason', () => {
    const cases: [unknown, RegExp][] = [
      [{ v: v + 1, type: 'ready' }, /version/],
      [{ type: 'ready' }, /version/],
      [{ v, type: 'eval', code: 'alert(1)' }, /unknown type/],
      [{ v, type: 'request', id: 1, method: 'deleteOutput', jobId: 'j' }, /unknown method/],
      [{ v, type: 'request', id: -1, method: 'cancel', jobId: 'j' }, /id/],
      [{ v, type: 'request', id: 1.5, method: 'cancel', jobId: 'j' }, /id/],
      [{ v, type: 'request', id: 1, method: 'cancel', jobId: '' }, /jobId/],
      [{ v, type: 'log', level: 'debug', message: 'x' }, /level/],
      ['ready', /not an object/],
      [null, /not an object/],
      [[{ v, type: 'ready' }], /not an object/],
    ];
    for (const [input, reason] of cases) {
      const r = parseWebviewMessage(input);
      assert.equal(r.ok, false, JSON.stringify(input));
      assert.match(r.ok ? '' : r.reason, reason, JSON.stringify(input));
    }
  });
});

describe('monitor protocol: host → webview', () => {
  it('accepts jobEnded with a known end phase only', () => {
    const ok = parseHostMessage({ v, type: 'jobEnded', jobId: 'j', phase: 'interrupted', message: 'killed' });
    assert.ok(ok.ok && ok.message.type === 'jobEnded' && ok.message.phase === 'interrupted');
    assert.equal(parseHostMessage({ v, type: 'jobEnded', jobId: 'j', phase: 'running' }).ok, false);
    assert.equal(parseHostMessage({ v, type: 'jobEnded', phase: 'done' }).ok, false);
  });

  it('accepts engine events, backends, replies and init', () => {
    const ev = parseHostMessage({ v, type: 'engineEvent', jobId: 'j', event: progressEvent(T0, 3) });
    assert.ok(ev.ok && ev.message.type === 'engineEvent' && ev.message.event.type === 'progress');
    const rows = [{ name: 'lab', url: 'http://127.0.0.1:8000', reachable: true, subscribers: 2, fps: 29.9 }];
    const be = parseHostMessage({ v, type: 'backends', rows });
    assert.ok(be.ok && be.message.type === 'backends' && be.message.rows[0].name === 'lab');
    const reply = parseHostMessage({ v, type: 'reply', id: 3, ok: false, error: 'no such job' });
    assert.deepEqual(reply, { ok: true, message: { v, type: 'reply', id: 3, ok: false, error: 'no such job' } });
    const init = parseHostMessage({ v, type: 'init', jobId: null, events: [], backends: null });
    assert.ok(init.ok && init.message.type === 'init' && init.message.backends === null);
  });

  it('drops malformed events inside init but keeps the good ones', () => {
    const r = parseHostMessage({
      v,
      type: 'init',
      jobId: 'j',
      events: [startEvent(), { type: 'progress', ts: 1 }, { type: 'nope', ts: 1 }, sampleEvent(T0 + 1000)],
      backends: null,
    });
    assert.ok(r.ok && r.message.type === 'init');
    assert.deepEqual(r.ok && r.message.type === 'init' ? r.message.events.map((e) => e.type) : [], ['start', 'sample']);
  });

  it('rejects previews that are not base64 images, and malformed rows', () => {
    const bad = [
      { ...previewEvent(T0, 1, b64, b64), mime: 'text/html' },
      previewEvent(T0, 1, '"><script>alert(1)</script>', b64),
      previewEvent(T0, 1, b64, 'data:image/png;base64,AAAA'),
    ];
    for (const event of bad) {
      const r = parseHostMessage({ v, type: 'engineEvent', jobId: 'j', event });
      assert.equal(r.ok, false);
    }
    assert.ok(validateEngineEventForView(previewEvent(T0, 1, b64, b64)));
    const rows = parseHostMessage({ v, type: 'backends', rows: [{ name: 'x', url: 'y', reachable: 'yes' }] });
    assert.equal(rows.ok, false);
    const row = { name: 'x', url: 'y', reachable: true };
    assert.equal(parseHostMessage({ v, type: 'backends', rows: [{ ...row, ai: 'off', recording: 'cam' }] }).ok, true);
    assert.equal(parseHostMessage({ v, type: 'backends', rows: [{ ...row, ai: { fps: 3 } }] }).ok, false);
    assert.equal(parseHostMessage({ v, type: 'backends', rows: [{ ...row, recording: 1 }] }).ok, false);
    const tooMany = Array.from({ length: 65 }, (_, i) => ({ name: `b${i}`, url: 'u', reachable: true }));
    assert.equal(parseHostMessage({ v, type: 'backends', rows: tooMany }).ok, false);
    assert.equal(parseHostMessage({ v, type: 'engineEvent', event: progressEvent(T0, 1) }).ok, false);
    assert.equal(
      parseHostMessage({ v, type: 'engineEvent', jobId: 'j', event: { ...progressEvent(T0, 1), fps: 'fast' } }).ok,
      false,
    );
    assert.equal(parseHostMessage({ v, type: 'reply', id: 'x', ok: true }).ok, false);
  });
});

describe('monitor protocol: backendFrame', () => {
  // A real JPEG's first bytes (SOI + APP0) so the prefix check sees what a hub sends.
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF'), Buffer.alloc(9)]);
  const data = jpeg.toString('base64');
  const frame = (patch: Record<string, unknown> = {}) => ({
    v,
    type: 'backendFrame',
    name: 'studio-hub',
    mime: 'image/jpeg',
    data,
    ts: T0,
    ...patch,
  });

  it('accepts a JPEG frame for a named backend and copies only known fields', () => {
    const r = parseHostMessage(frame({ extra: '<script>' }));
    assert.deepEqual(r, {
      ok: true,
      message: { v, type: 'backendFrame', name: 'studio-hub', mime: 'image/jpeg', data, ts: T0 },
    });
  });

  it('rejects oversized, non-JPEG, non-base64 and incomplete frames with a reason', () => {
    const oversized = `/9j/${'A'.repeat(MAX_BACKEND_FRAME_BASE64_CHARS)}`;
    const cases: [unknown, RegExp][] = [
      [frame({ data: oversized }), /too large/],
      [frame({ mime: 'image/png' }), /mime/],
      [frame({ mime: 'text/html' }), /mime/],
      [frame({ data: Buffer.from('<svg onload=alert(1)>').toString('base64') }), /not a JPEG/],
      [frame({ data: '/9j/"><script>' }), /not a JPEG/],
      [frame({ data: 'data:image/jpeg;base64,/9j/' }), /not a JPEG/],
      [frame({ data: undefined }), /data/],
      [frame({ name: '' }), /name/],
      [frame({ name: 'x'.repeat(201) }), /name/],
      [frame({ name: 7 }), /name/],
      [frame({ ts: Number.NaN }), /ts/],
      [frame({ ts: '1' }), /ts/],
      [frame({ v: v + 1 }), /version/],
    ];
    for (const [input, reason] of cases) {
      const r = parseHostMessage(input);
      assert.equal(r.ok, false, JSON.stringify(input).slice(0, 120));
      assert.match(r.ok ? '' : r.reason, reason, JSON.stringify(input).slice(0, 120));
    }
  });
});
