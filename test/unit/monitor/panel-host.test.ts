import assert from 'node:assert/strict';
import { backendRowFromHubStatus } from '../../../src/extension/backends/backend-rows';
import { monitorCsp, renderMonitorHtml } from '../../../src/extension/monitor/html';
import type { MonitorJobControls, MonitorLogger } from '../../../src/extension/monitor/job-controls';
import { JobReplay, SERIES_POINTS } from '../../../src/extension/monitor/job-replay';
import { MonitorMessageRouter } from '../../../src/extension/monitor/message-router';
import { MAX_JOBS, MonitorState } from '../../../src/extension/monitor/monitor-state';
import { makeNonce } from '../../../src/extension/webview-html';
import type { ReceivedHubStatus } from '../../../src/protocol/hub-status';
import {
  type HostToWebviewMessage,
  MAX_BACKEND_FRAME_BASE64_CHARS,
  parseHostMessage,
  WEBVIEW_PROTOCOL_VERSION as v,
} from '../../../src/protocol/webview-messages';
import {
  doneEvent,
  previewEvent,
  progressEvent,
  sampleEvent,
  startEvent,
  T0,
  warningEvent,
} from './engine-event-fixtures';

class MemoryLog implements MonitorLogger {
  lines: string[] = [];
  info(m: string) {
    this.lines.push(`info ${m}`);
  }
  warn(m: string) {
    this.lines.push(`warn ${m}`);
  }
  error(m: string) {
    this.lines.push(`error ${m}`);
  }
}

describe('monitor host: job replay', () => {
  it('keeps a bounded, ordered story: start first, terminal last, newest preview only', () => {
    const r = new JobReplay('j');
    r.record(startEvent());
    for (let i = 0; i < SERIES_POINTS + 50; i++) {
      r.record(progressEvent(T0 + i * 100, i));
      r.record(sampleEvent(T0 + i * 100 + 50));
    }
    r.record(previewEvent(T0 + 10, 1, 'AAAA', 'AAAA'));
    r.record(previewEvent(T0 + 20, 2, 'BBBB', 'BBBB'));
    for (let i = 0; i < 9; i++) r.record(warningEvent(T0 + i, `w${i}`));
    r.record(doneEvent(T0 + 999_999, 650));
    const events = r.events();
    assert.equal(events[0].type, 'start');
    assert.equal(events.at(-1)?.type, 'done');
    assert.equal(events.filter((e) => e.type === 'progress').length, SERIES_POINTS);
    assert.equal(events.filter((e) => e.type === 'sample').length, SERIES_POINTS);
    assert.equal(events.filter((e) => e.type === 'warning').length, 5);
    const previews = events.filter((e) => e.type === 'preview');
    assert.equal(previews.length, 1);
    assert.equal(previews[0].type === 'preview' && previews[0].frame, 2);
    const middle = events.slice(1, -1).map((e) => e.ts);
    assert.deepEqual(
      middle,
      [...middle].sort((a, b) => a - b),
    );
    // The whole replay passes the webview's validator.
    const init = parseHostMessage({ v, type: 'init', jobId: 'j', events, backends: null });
    assert.ok(init.ok && init.message.type === 'init' && init.message.events.length === events.length);
    assert.ok(r.finished);
  });

  it('a new start (resume) forgets the previous attempt', () => {
    const r = new JobReplay('j');
    r.record(startEvent());
    r.record(progressEvent(T0 + 1, 5));
    r.record(doneEvent(T0 + 2, 5));
    r.record(startEvent(T0 + 10, { resumeFromFrame: 5 }));
    assert.deepEqual(
      r.events().map((e) => e.type),
      ['start'],
    );
    assert.equal(r.finished, false);
  });
});

describe('monitor host: state', () => {
  it('follows the newest job to start and forwards only its events', () => {
    const s = new MonitorState();
    const m1 = s.record('a', startEvent());
    assert.equal(m1?.type, 'init');
    assert.equal(s.record('a', progressEvent(T0 + 1, 1))?.type, 'engineEvent');
    const m2 = s.record('b', startEvent(T0 + 2));
    assert.ok(m2?.type === 'init' && m2.jobId === 'b');
    assert.equal(s.record('a', progressEvent(T0 + 3, 2)), undefined);
    const back = s.focus('a');
    assert.ok(back?.type === 'init' && back.events.length === 3);
    assert.equal(s.focus('nope'), undefined);
  });

  it('keeps backends rows for init and copies them', () => {
    const s = new MonitorState();
    assert.equal((s.init() as Extract<HostToWebviewMessage, { type: 'init' }>).backends, null);
    const rows = [{ name: 'a', url: 'http://a', reachable: true }];
    s.setBackends(rows);
    rows[0].reachable = false;
    const init = s.init();
    assert.ok(init.type === 'init' && init.backends?.[0].reachable === true);
  });

  it('keeps the newest frame per listed backend for the next init, refusing frames over the protocol cap', () => {
    const s = new MonitorState();
    const jpeg = (n: number) => Buffer.from([0xff, 0xd8, 0xff, 0xe0, n, 0xff, 0xd9]);
    const m = s.setBackendFrame('a', jpeg(1), 10);
    assert.ok(m);
    const parsed = parseHostMessage(m);
    assert.ok(
      parsed.ok && parsed.message.type === 'backendFrame' && parsed.message.name === 'a',
      JSON.stringify(parsed),
    );
    s.setBackendFrame('a', jpeg(2), 20);
    s.setBackendFrame('b', jpeg(3), 30);
    assert.deepEqual(
      s.backendFrames().map((f) => [f.name, Buffer.from(f.data, 'base64')[4], f.ts]),
      [
        ['a', 2, 20],
        ['b', 3, 30],
      ],
    );
    // Over the cap: refused, and the previous frame stays.
    assert.equal(s.setBackendFrame('a', Buffer.alloc(MAX_BACKEND_FRAME_BASE64_CHARS), 40), undefined);
    assert.equal(s.backendFrames()[0].ts, 20);
    // A backend leaving the list takes its frame with it.
    s.setBackends([{ name: 'b', url: 'http://b', reachable: true }]);
    assert.deepEqual(
      s.backendFrames().map((f) => f.name),
      ['b'],
    );
  });

  it('remembers at most MAX_JOBS jobs, evicting finished ones first and never the focused one', () => {
    const s = new MonitorState();
    s.record('keep-running', startEvent(T0));
    for (let i = 0; i < MAX_JOBS + 4; i++) {
      s.record(`done-${i}`, startEvent(T0 + 10 + i));
      s.record(`done-${i}`, doneEvent(T0 + 20 + i, 1));
    }
    s.record('last', startEvent(T0 + 1000));
    assert.ok(s.hasJob('keep-running'));
    assert.ok(s.hasJob('last'));
    assert.equal(s.focusedJobId, 'last');
    const known = ['keep-running', 'last', ...Array.from({ length: MAX_JOBS + 4 }, (_, i) => `done-${i}`)].filter((j) =>
      s.hasJob(j),
    );
    assert.equal(known.length, MAX_JOBS);
  });
});

describe('monitor host: message router', () => {
  function setup(controls?: MonitorJobControls) {
    const posted: HostToWebviewMessage[] = [];
    const log = new MemoryLog();
    let readies = 0;
    const router = new MonitorMessageRouter({
      post: (m) => posted.push(m),
      log,
      controls: () => controls,
      onReady: () => readies++,
    });
    return { router, posted, log, readies: () => readies };
  }

  it('answers requests with the same id, carrying the job manager’s error', async () => {
    const calls: string[] = [];
    const controls: MonitorJobControls = {
      cancel: (id) => {
        calls.push(`cancel ${id}`);
      },
      revealOutput: async (id) => {
        throw new Error(`output of ${id} does not exist yet`);
      },
      openLog: (id) => calls.push(`log ${id}`),
    };
    const { router, posted } = setup(controls);
    await router.handle({ v, type: 'request', id: 4, method: 'cancel', jobId: 'j1' });
    await router.handle({ v, type: 'request', id: 5, method: 'revealOutput', jobId: 'j1' });
    assert.deepEqual(calls, ['cancel j1']);
    assert.deepEqual(posted, [
      { v, type: 'reply', id: 4, ok: true },
      { v, type: 'reply', id: 5, ok: false, error: 'output of j1 does not exist yet' },
    ]);
  });

  it('logs and ignores unknown or malformed messages, never calling controls', async () => {
    let called = false;
    const controls: MonitorJobControls = {
      cancel: () => {
        called = true;
      },
      revealOutput: () => {
        called = true;
      },
      openLog: () => {
        called = true;
      },
    };
    const { router, posted, log, readies } = setup(controls);
    await router.handle({ v, type: 'request', id: 1, method: 'constructor', jobId: 'j' });
    await router.handle({ v: 99, type: 'ready' });
    await router.handle('{"type":"ready"}');
    await router.handle({ v, type: 'exec', command: 'rm' });
    assert.equal(called, false);
    assert.equal(posted.length, 0);
    assert.equal(readies(), 0);
    assert.equal(log.lines.length, 4);
    assert.ok(log.lines.every((l) => l.startsWith('warn huaju4k monitor: ignored')));
    await router.handle({ v, type: 'ready' });
    await router.handle({ v, type: 'log', level: 'error', message: 'boom' });
    assert.equal(readies(), 1);
    assert.equal(log.lines.at(-1), 'error huaju4k monitor webview: boom');
  });

  it('replies with an error when no job controls are wired', async () => {
    const { router, posted } = setup(undefined);
    await router.handle({ v, type: 'request', id: 9, method: 'openLog', jobId: 'j' });
    assert.deepEqual(posted, [{ v, type: 'reply', id: 9, ok: false, error: 'Job controls are not available yet.' }]);
  });
});

describe('monitor host: html and CSP', () => {
  it('allows only the nonce’d bundle script and resources from the webview source', () => {
    const nonce = makeNonce();
    assert.match(nonce, /^[A-Za-z0-9_-]{24}$/);
    assert.notEqual(nonce, makeNonce());
    const html = renderMonitorHtml({
      cspSource: 'https://x.vscode-cdn.net',
      nonce,
      scriptUri: 'https://x.vscode-cdn.net/ext/dist/webview.js',
      styleUri: 'https://x.vscode-cdn.net/ext/dist/webview.css?a=1&b="2"',
    });
    const csp = monitorCsp('https://x.vscode-cdn.net', nonce);
    assert.ok(html.includes(csp.replace(/'/g, "'")));
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'`));
    assert.match(csp, /img-src https:\/\/x\.vscode-cdn\.net data: blob:/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    assert.equal(scripts.length, 1);
    assert.ok(scripts[0].includes(`nonce="${nonce}"`));
    assert.ok(html.includes('b=&quot;2&quot;'));
    assert.doesNotMatch(html, /<style/);
    assert.throws(() => renderMonitorHtml({ cspSource: 'x', nonce: "a' 'unsafe-inline", scriptUri: '', styleUri: '' }));
  });
});

describe('monitor host: backends rows from the hub status', () => {
  it('maps reachable hubs with relay state and unreachable ones with their error', () => {
    const status = {
      subscribers: [{}, {}, {}],
      broadcast: { frames: 10, bytes: 100, fps: 29.5 },
      relay: { enabled: true, connected: true, heartbeatAgeMs: 1500 },
      // A hub from before the AI core and recording (or a malformed part): null, said as "not available".
      ai: null,
      recordings: null,
    } as unknown as ReceivedHubStatus;
    assert.deepEqual(backendRowFromHubStatus('lab', 'http://lab:8000', status), {
      name: 'lab',
      url: 'http://lab:8000',
      reachable: true,
      subscribers: 3,
      fps: 29.5,
      relay: 'connected',
      heartbeatAgeS: 1.5,
      ai: 'not available',
      recording: 'not available',
    });
    const off = {
      ...status,
      relay: { enabled: false, connected: false, heartbeatAgeMs: null },
      recordings: [],
    } as unknown as ReceivedHubStatus;
    assert.equal(backendRowFromHubStatus('a', 'u', off).relay, 'off');
    assert.equal(backendRowFromHubStatus('a', 'u', off).recording, 'off');
    assert.deepEqual(backendRowFromHubStatus('b', 'u', undefined, 'ECONNREFUSED'), {
      name: 'b',
      url: 'u',
      reachable: false,
      error: 'ECONNREFUSED',
    });
  });
});
