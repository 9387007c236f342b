import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { backendTreeRow, genericRows } from '../../../src/extension/backends/tree-rows';
import { BackendStatusClient, type BackendView, probeBackend } from '../../../src/hub/client';
import { HubPreviewSubscriber, previewUrl } from '../../../src/hub/preview-subscriber';
import { HubPublisher } from '../../../src/hub/publisher';
import { closeHubs, closeWs, connect, eventually, jpegTag, startHub, taggedJpeg } from './helpers';

/** A stand-in blankend: real HTTP serving its documented status endpoints (only one of them up). */
async function fakeBlankend(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/api/v1/ai/status') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ enabled: true, devices: { gpu0: { healthy: true, queue: 2 } } }));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** A port that was free a moment ago: nothing listens there. */
async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe('hub client: status probe, backoff, tree rows', () => {
  afterEach(closeHubs);

  it('reads our hub typed, with the token, and maps it to tree rows', async () => {
    const { http } = await startHub({ token: 'tok' });
    const denied = await probeBackend(http);
    assert.equal(denied.state, 'unauthorized');
    const ok = await probeBackend(http, { token: 'tok' });
    assert.equal(ok.state, 'reachable');
    assert.equal(ok.snapshot?.kind, 'huaju4k-hub');
    const row = backendTreeRow({ name: 'local', url: http, state: 'reachable', snapshot: ok.snapshot, failures: 0 });
    assert.equal(row.state, 'ok');
    assert.match(row.description ?? '', /^0 subs · 0\.0 fps$/);
    assert.deepEqual(
      row.children?.map((c) => c.label),
      ['Subscribers', 'Frames', 'Relay', 'AI core', 'Recording', 'Resources'],
    );
    assert.equal(row.children?.find((c) => c.label === 'Relay')?.description, 'off');
    // A hub started without --ai says its AI core is off; nothing is being recorded.
    assert.match(row.children?.find((c) => c.label === 'AI core')?.description ?? '', /^off/);
  });

  it('shows a blankend backend generically, unknown fields included', async () => {
    const { url, server } = await fakeBlankend();
    try {
      const r = await probeBackend(url);
      assert.equal(r.state, 'reachable');
      assert.equal(r.snapshot?.kind, 'blankend');
      const row = backendTreeRow({ name: 'b', url, state: 'reachable', snapshot: r.snapshot, failures: 0 });
      const ai = row.children?.find((c) => c.label === 'ai/status');
      assert.equal(ai?.state, 'ok');
      assert.deepEqual(
        ai?.children?.map((c) => `${c.label}=${c.description}`),
        ['enabled=true', 'devices.gpu0.healthy=true', 'devices.gpu0.queue=2'],
      );
      assert.equal(row.children?.find((c) => c.label === 'realtime_pipeline/status')?.state, 'warning');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('caps generic rows', () => {
    const big = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    assert.equal(genericRows('x', big, 10).length, 10);
  });

  it('backs off while unreachable, then recovers when the hub comes up on that port', async function () {
    this.timeout(20_000);
    const url = await deadUrl();
    const port = Number(new URL(url).port);
    const client = new BackendStatusClient({
      name: 'later',
      url,
      intervalMs: 50,
      backoff: { initialMs: 40, maxMs: 200, jitter: 0 },
    });
    const views: BackendView[] = [];
    client.onUpdate((v) => views.push(v));
    client.start();
    try {
      await eventually(() => views.filter((v) => v.state === 'unreachable').length >= 3, 'three failed polls');
      assert.ok(client.view.failures >= 3);
      assert.match(client.view.error ?? '', /ECONNREFUSED/);
      const down = backendTreeRow(client.view);
      assert.equal(down.state, 'error');
      assert.match(down.description ?? '', /^unreachable/);
      await startHub({ port });
      await eventually(() => client.view.state === 'reachable', 'reachable after the hub starts', 10_000);
      assert.equal(client.view.failures, 0);
    } finally {
      client.stop();
    }
  });

  it('preview subscriber and publisher: frames flow publisher → hub → preview; both reconnect', async function () {
    this.timeout(20_000);
    const h = await startHub();
    const got: number[] = [];
    const preview = new HubPreviewSubscriber({
      baseUrl: h.http,
      flavour: 'huaju4k-hub',
      maxFps: 1000,
      backoff: { initialMs: 30, maxMs: 100 },
      onFrame: (jpeg, header) => {
        assert.ok(header && header.hubSeq > 0);
        got.push(jpegTag(jpeg));
      },
    });
    const pub = new HubPublisher({ url: h.ws('/video_in'), source: 'engine', backoff: { initialMs: 30, maxMs: 100 } });
    try {
      await eventually(() => preview.connected && pub.stats().connected, 'both connected');
      assert.equal(pub.publish(Buffer.from('nope')), false);
      for (let i = 0; i < 5; i++) {
        pub.publish(taggedJpeg(i));
        await eventually(() => got.includes(i), `frame ${i} previewed`);
      }
      const s = h.hub.status();
      assert.equal(s.subscribers.length, 1, 'the publisher does not subscribe');
      assert.equal(pub.stats().rejected, 1);
      // Restart the hub on the same port: both sides reconnect and frames flow again.
      await h.hub.close();
      await eventually(() => !pub.stats().connected && !preview.connected, 'both see the hub go');
      for (let i = 100; i < 110; i++) pub.publish(taggedJpeg(i));
      assert.equal(pub.stats().queued, 4);
      assert.equal(pub.stats().dropped, 6);
      await startHub({ port: h.port });
      await eventually(() => preview.connected && pub.stats().connected, 'both reconnected', 10_000);
      pub.publish(taggedJpeg(200));
      await eventually(() => got.includes(200), 'frame after reconnect');
      assert.ok(pub.stats().connects >= 2);
    } finally {
      await pub.close();
      await preview.close();
    }
  });

  it('preview throttles to the newest frame', async () => {
    const h = await startHub();
    const got: number[] = [];
    const preview = new HubPreviewSubscriber({
      baseUrl: h.http,
      flavour: 'huaju4k-hub',
      maxFps: 2,
      onFrame: (jpeg) => got.push(jpegTag(jpeg)),
    });
    try {
      await eventually(() => preview.connected, 'connected');
      const pub = await connect(h.ws('/video_in?subscribe=0'));
      for (let i = 0; i < 30; i++) pub.ws.send(taggedJpeg(i));
      await eventually(() => preview.received === 30, 'all received');
      await eventually(() => got.includes(29), 'newest forwarded', 3000);
      assert.ok(got.length < 30, `forwarded ${got.length} of 30`);
      await closeWs(pub.ws);
    } finally {
      await preview.close();
    }
  });

  it('builds preview URLs for both flavours', () => {
    assert.equal(previewUrl('http://h:1/', 'huaju4k-hub'), 'ws://h:1/video_out?headers=1');
    assert.equal(previewUrl('https://h/api', 'blankend'), 'wss://h/api/video_in');
  });
});
