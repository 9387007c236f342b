/**
 * The backends lifecycle against real hubs started in-process (`src/hub/server.ts` on port 0), real HTTP polls and
 * real WebSocket subscribers: configure/restart/stop, tokens, backoff reset on refresh, rows for the tree and the
 * monitor.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BackendRegistry } from '../../../src/extension/backends/backend-registry';
import { describeProbe, monitorRowFromView, presentRow } from '../../../src/extension/backends/backend-rows';
import { closeHubs, closeWs, connect, eventually, startHub } from '../hub/helpers';

async function deadUrl(): Promise<{ url: string; port: number }> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return { url: `http://127.0.0.1:${port}`, port };
}

describe('backends: registry of status clients against a real hub', () => {
  const registries: BackendRegistry[] = [];
  const tokens = new Map<string, string>();
  const make = (opts: { intervalMs?: number; initialBackoffMs?: number } = {}) => {
    const r = new BackendRegistry({
      tokenFor: async (name) => tokens.get(name),
      intervalMs: opts.intervalMs ?? 100,
      timeoutMs: 1000,
      backoff: { initialMs: opts.initialBackoffMs ?? 50, maxMs: opts.initialBackoffMs ?? 200 },
    });
    registries.push(r);
    return r;
  };

  afterEach(async () => {
    for (const r of registries.splice(0)) r.dispose();
    tokens.clear();
    await closeHubs();
  });

  it('polls each configured hub and shows subscribers in the tree and monitor rows', async () => {
    const a = await startHub();
    const reg = make();
    let changes = 0;
    reg.onDidChange(() => changes++);
    await reg.configure([{ name: 'a', url: a.http }]);
    await eventually(() => reg.view('a')?.state === 'reachable', 'hub a reachable');
    const sub = await connect(a.ws('/video_out'));
    try {
      await eventually(() => reg.treeRows()[0]?.description?.startsWith('1 subs') === true, 'one subscriber shown');
      const [row] = reg.treeRows();
      assert.equal(row.label, 'a');
      assert.equal(row.state, 'ok');
      const subs = row.children?.find((c) => c.label === 'Subscribers');
      assert.equal(subs?.children?.length, 1);
      assert.match(subs?.children?.[0].label ?? '', /^\/video_out 127\.0\.0\.1/);
      const [mon] = reg.monitorRows();
      assert.deepEqual(
        { ...mon, fps: undefined },
        {
          ...{ name: 'a', url: a.http, reachable: true, subscribers: 1, fps: undefined, relay: 'off' },
          ...{ ai: 'off', recording: 'off' },
        },
      );
      const p = presentRow(row, reg.view('a'));
      assert.equal(p.contextValue, 'backend.reachable');
      assert.equal(p.collapsible, 'expanded');
      assert.equal(p.colorId, 'testing.iconPassed');
      assert.match(p.tooltip ?? '', /^a — reachable\n/);
      assert.ok(changes >= 2, `change events: ${changes}`);
    } finally {
      await closeWs(sub.ws);
    }
  });

  it('keeps an unchanged client, restarts a changed one, stops a removed one', async () => {
    const a = await startHub();
    const b = await startHub();
    const reg = make();
    await reg.configure([
      { name: 'a', url: a.http },
      { name: 'b', url: b.http },
    ]);
    await eventually(() => reg.views().every((v) => v.state === 'reachable'), 'both reachable');
    const aBefore = reg.view('a');
    const aOkAt = aBefore?.lastOkAt;
    // b moves to a's address; a is untouched; c is added.
    const dead = await deadUrl();
    await reg.configure([
      { name: 'c', url: dead.url },
      { name: 'a', url: a.http },
      { name: 'b', url: a.http },
    ]);
    assert.deepEqual(
      reg.views().map((v) => v.name),
      ['c', 'a', 'b'],
    );
    assert.equal(reg.view('a')?.state, 'reachable', 'a kept its client and snapshot');
    assert.ok((reg.view('a')?.lastOkAt ?? 0) >= (aOkAt ?? 0));
    assert.equal(reg.view('b')?.url, a.http);
    await eventually(() => reg.view('c')?.state === 'unreachable', 'c unreachable');
    const c = reg.view('c');
    assert.match(c?.error ?? '', /ECONNREFUSED/);
    const cRow = reg.treeRows()[0];
    assert.equal(cRow.state, 'error');
    assert.equal(presentRow(cRow, c).colorId, 'testing.iconFailed');
    assert.equal(monitorRowFromView(c!).reachable, false);
    assert.match(monitorRowFromView(c!).error ?? '', /ECONNREFUSED/);

    // Removing everything stops every client: no change event arrives afterwards.
    await reg.configure([]);
    assert.deepEqual(reg.views(), []);
    let late = 0;
    reg.onDidChange(() => late++);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(late, 0, 'a stopped client still reported');
  });

  it('sends the stored token; a changed token restarts the client', async () => {
    const h = await startHub({ token: 's3cret' });
    const reg = make();
    await reg.configure([{ name: 'locked', url: h.http }]);
    await eventually(() => reg.view('locked')?.state === 'unauthorized', 'unauthorized without a token');
    const [row] = reg.treeRows();
    assert.equal(row.icon, 'lock');
    assert.equal(presentRow(row, reg.view('locked')).contextValue, 'backend.unauthorized');
    assert.match(describeProbe('locked', h.http, await reg.test('locked')).text, /refused the token/);

    tokens.set('locked', 's3cret');
    await reg.reloadTokens();
    await eventually(() => reg.view('locked')?.state === 'reachable', 'reachable with the token');
    const probe = await reg.test('locked');
    assert.equal(probe.state, 'reachable');
    const summary = describeProbe('locked', h.http, probe);
    assert.equal(summary.severity, 'info');
    assert.match(summary.text, /reachable: huaju4k hub, \d+ subscribers?, 0\.0 fps, relay off/);
  });

  it('refresh starts a backing-off backend over, so a hub that came up shows at once', async () => {
    const dead = await deadUrl();
    // A long backoff: without refresh the next poll would be 60 s away.
    const reg = make({ initialBackoffMs: 60_000 });
    await reg.configure([{ name: 'late', url: dead.url }]);
    await eventually(() => reg.view('late')?.state === 'unreachable', 'unreachable first');
    await startHub({ port: dead.port });
    await reg.refresh();
    await eventually(() => reg.view('late')?.state === 'reachable', 'reachable after refresh', 3000);
  });

  it('serialises configuration bursts: the last one wins and superseded clients stop polling', async () => {
    // "a" counts every request it gets, so a client left polling it would show.
    let hits = 0;
    const counter = createServer((_req, res) => {
      hits++;
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => counter.listen(0, '127.0.0.1', () => r()));
    const aUrl = `http://127.0.0.1:${(counter.address() as AddressInfo).port}`;
    try {
      const b = await startHub();
      const reg = make();
      // Concurrent calls coalesce to the newest list ...
      void reg.configure([{ name: 'x', url: aUrl }]);
      void reg.configure([]);
      await reg.configure([{ name: 'y', url: aUrl }]);
      assert.deepEqual(
        reg.views().map((v) => v.name),
        ['y'],
      );
      // ... and sequential ones start and stop clients one after the other.
      await reg.configure([{ name: 'x', url: aUrl }]);
      await eventually(() => hits > 0, 'a polled');
      await reg.configure([]);
      await reg.configure([{ name: 'x', url: aUrl }]);
      await reg.configure([{ name: 'x', url: b.http }]);
      assert.deepEqual(
        reg.views().map((v) => [v.name, v.url]),
        [['x', b.http]],
      );
      await eventually(() => reg.view('x')?.state === 'reachable', 'x reachable at b');
      await new Promise((r) => setTimeout(r, 300)); // let any in-flight probe of a finish
      const settled = hits;
      await new Promise((r) => setTimeout(r, 500)); // several poll intervals and backoffs
      assert.equal(hits, settled, 'a superseded client kept polling a');
    } finally {
      counter.closeAllConnections();
      await new Promise<void>((r) => counter.close(() => r()));
    }
  });

  it('test() of an unknown name says so instead of throwing', async () => {
    const reg = make();
    const r = await reg.test('nope');
    assert.equal(r.state, 'unreachable');
    assert.match(r.error ?? '', /no backend named "nope"/);
  });
});
