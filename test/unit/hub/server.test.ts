import assert from 'node:assert/strict';
import { cudaDecodeAvailable } from '../../../src/hub/decoder';
import type { BroadcastHeader, HubStatus } from '../../../src/protocol/hub-status';
import {
  bigJpeg,
  closeHubs,
  closeWs,
  connect,
  eventually,
  jpegDimensions,
  jpegTag,
  startHub,
  taggedJpeg,
  tinyH264,
  tinyJpeg,
} from './helpers';

async function getStatus(http: string, token?: string): Promise<HubStatus> {
  const res = await fetch(`${http}/api/v1/stream/status`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  assert.equal(res.status, 200);
  return (await res.json()) as HubStatus;
}

describe('hub server: /video_in → subscribers', () => {
  afterEach(closeHubs);

  it('broadcasts frames in order, pairs each header with the next binary only', async () => {
    const { ws } = await startHub();
    const out = await connect(ws('/video_out?headers=1'));
    const pub = await connect(ws('/video_in?subscribe=0'));
    for (let i = 0; i < 20; i++) {
      if (i % 2 === 0) pub.ws.send(JSON.stringify({ source: 'cam', kind: 'raw', seq: i, ts: 1000 + i }));
      pub.ws.send(taggedJpeg(i));
    }
    await out.until(() => out.binaries.length === 20, '20 frames');
    assert.deepEqual(
      out.binaries.map(jpegTag),
      Array.from({ length: 20 }, (_, i) => i),
    );
    const headers = out.texts.map((t) => JSON.parse(t) as BroadcastHeader);
    assert.equal(headers.length, 20);
    headers.forEach((h, i) => {
      assert.equal(h.hubSeq, i + 1);
      assert.equal(h.bytes, out.binaries[i].length);
      if (i % 2 === 0) assert.deepEqual([h.source, h.kind, h.seq, h.ts], ['cam', 'raw', i, 1000 + i]);
      else assert.equal(h.seq, undefined, `frame ${i} must not inherit the previous header`);
    });
    assert.equal(pub.binaries.length, 0, 'subscribe=0 publisher gets nothing back');
    await closeWs(out.ws);
    await closeWs(pub.ws);
  });

  it('treats /video_in sockets as blankend clients: they receive broadcasts by default', async () => {
    const { ws } = await startHub();
    const a = await connect(ws('/video_in'));
    const b = await connect(ws('/video_in'));
    a.ws.send(taggedJpeg(7));
    await a.until(() => a.binaries.length === 1, 'echo to sender');
    await b.until(() => b.binaries.length === 1, 'frame at the other client');
    assert.equal(jpegTag(b.binaries[0]), 7);
    assert.equal(b.texts.length, 0, 'no header text unless asked');
    await closeWs(a.ws);
    await closeWs(b.ws);
  });

  it('rejects non-JPEG binaries and invalid headers with an error message, broadcasting nothing', async () => {
    const { ws, http } = await startHub();
    const out = await connect(ws('/video_out'));
    const pub = await connect(ws('/video_in?subscribe=0'));
    const good = tinyJpeg(0);
    pub.ws.send(Buffer.from('not a jpeg at all'));
    pub.ws.send(good.subarray(0, good.length - 10)); // truncated: no EOI
    pub.ws.send(Buffer.from('\xff\xd8GARBAGE\xff\xd9', 'latin1')); // right first and last bytes, no JPEG inside
    pub.ws.send('{"kind":"weird"}');
    pub.ws.send('not json');
    await pub.until(() => pub.texts.length === 5, 'five error replies');
    const codes = pub.texts.map((t) => (JSON.parse(t) as { code: string }).code);
    assert.deepEqual(codes, ['not_jpeg', 'not_jpeg', 'not_jpeg', 'bad_header', 'bad_header']);
    pub.ws.send(good);
    await out.until(() => out.binaries.length === 1, 'the valid frame');
    assert.ok(out.binaries[0].equals(good));
    const s = await getStatus(http);
    assert.equal(s.ingest.rejected, 5);
    assert.equal(s.ingest.frames, 1);
    assert.equal(s.broadcast.frames, 1);
    await closeWs(out.ws);
    await closeWs(pub.ws);
  });

  it('closes a socket that sends an oversized message (1009) and counts it', async () => {
    const { ws, http } = await startHub({ max_frame_bytes: 4096 });
    const out = await connect(ws('/video_out'));
    const pub = await connect(ws('/video_in?subscribe=0'));
    const closed = new Promise<number>((resolve) => pub.ws.once('close', (code) => resolve(code)));
    pub.ws.send(bigJpeg(1, 20_000));
    assert.equal(await closed, 1009);
    await eventually(async () => (await getStatus(http)).ingest.oversized === 1, 'oversized counted');
    assert.equal(out.binaries.length, 0);
    await closeWs(out.ws);
  });

  it('keeps fast subscribers whole while a stalled one drops its oldest frames', async function () {
    this.timeout(30_000);
    const { ws, http } = await startHub({ subscriber_queue_size: 3 });
    const fast = await connect(ws('/video_out'));
    const fast2 = await connect(ws('/video_out'));
    const slow = await connect(ws('/video_out'));
    slow.ws.pause(); // stops reading: the kernel buffers fill, then the hub must drop for this one only
    const pub = await connect(ws('/video_in?subscribe=0'));
    const n = 120;
    for (let i = 0; i < n; i++) {
      pub.ws.send(bigJpeg(i, 256 * 1024));
      await fast.until(() => fast.binaries.length === i + 1, `fast frame ${i}`, 10_000);
    }
    await fast2.until(() => fast2.binaries.length === n, 'second fast subscriber complete', 10_000);
    assert.deepEqual(fast.binaries.map(jpegTag), [...Array(n).keys()]);
    assert.deepEqual(fast2.binaries.map(jpegTag), [...Array(n).keys()]);
    const s = await getStatus(http);
    const bySlowest = [...s.subscribers].sort((a, b) => b.dropped - a.dropped);
    assert.ok(bySlowest[0].dropped > 0, `stalled subscriber dropped ${bySlowest[0].dropped}`);
    assert.equal(bySlowest[1].dropped, 0);
    assert.equal(bySlowest[2].dropped, 0);
    assert.ok(bySlowest[0].queued <= 3);
    // Once resumed it gets the newest frames it still holds, in order, ending with the last one.
    slow.ws.resume();
    await slow.until(() => slow.binaries.length > 0 && jpegTag(slow.binaries.at(-1)!) === n - 1, 'slow catches up');
    const tags = slow.binaries.map(jpegTag);
    assert.deepEqual(
      tags,
      [...tags].sort((a, b) => a - b),
      'order kept',
    );
    assert.equal(new Set(tags).size, tags.length, 'no frame twice');
    for (const c of [fast, fast2, slow, pub]) await closeWs(c.ws);
  });
});

describe('hub server: token, status, resources', () => {
  afterEach(closeHubs);

  it('logs a throughput line every log_interval_ms (recv, broadcast, relay, decoded)', async () => {
    const lines: string[] = [];
    const { ws } = await startHub({ log_interval_ms: 100 }, { log: (l) => lines.push(l) });
    const pub = await connect(ws('/video_in'));
    pub.ws.send(taggedJpeg(1));
    await eventually(() => lines.some((l) => /recv frames=1 .*broadcast frames=1 .*clients=1/.test(l)), 'log line');
    await closeWs(pub.ws);
  });

  it('enforces the bearer token on the API and on upgrades', async () => {
    const { http, ws } = await startHub({ token: 's3cret' });
    assert.equal((await fetch(`${http}/api/v1/stream/status`)).status, 401);
    const wrong = await fetch(`${http}/api/v1/stream/status`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer');
    const s = await getStatus(http, 's3cret');
    assert.equal(s.config.tokenRequired, true);
    await assert.rejects(connect(ws('/video_out')), /401/);
    await assert.rejects(connect(ws('/video_out?token=bad')), /401/);
    const viaQuery = await connect(ws('/video_out?token=s3cret'));
    const viaHeader = await connect(ws('/video_in'), { authorization: 'Bearer s3cret' });
    viaHeader.ws.send(tinyJpeg(0));
    await viaQuery.until(() => viaQuery.binaries.length === 1, 'frame through authorised sockets');
    await closeWs(viaQuery.ws);
    await closeWs(viaHeader.ws);
  });

  it('binds loopback by default and answers unknown paths with 404', async () => {
    const { http, ws } = await startHub();
    const s = await getStatus(http);
    assert.equal(s.config.host, '127.0.0.1');
    assert.equal((await fetch(`${http}/nope`)).status, 404);
    await assert.rejects(connect(ws('/elsewhere')), /404/);
    await assert.rejects(connect(ws('/video_codec?codec=vp9')), /400/);
  });

  it('lists its live resources and per-subscriber counters', async () => {
    const { http, ws } = await startHub();
    const out = await connect(ws('/video_out'));
    const pub = await connect(ws('/video_in?subscribe=0'));
    for (let i = 0; i < 5; i++) pub.ws.send(taggedJpeg(i));
    await out.until(() => out.binaries.length === 5, 'frames');
    const s = await getStatus(http);
    assert.equal(s.relay.enabled, false);
    assert.equal(s.subscribers.length, 1);
    assert.equal(s.subscribers[0].path, '/video_out');
    await eventually(async () => (await getStatus(http)).subscribers[0].delivered === 5, 'delivered counted');
    const kinds = s.resources.map((r) => `${r.kind}:${r.detail.split(' ')[0]}`).sort();
    assert.deepEqual(kinds, ['http-server:listening', 'ws-connection:/video_in', 'ws-connection:/video_out']);
    await closeWs(pub.ws);
    await eventually(async () => (await getStatus(http)).resources.length === 2, 'closed socket leaves the list');
    await closeWs(out.ws);
  });
});

describe('hub server: /video_codec', () => {
  afterEach(closeHubs);

  for (const hwaccel of ['cpu', 'cuda'] as const) {
    it(`decodes an h264 stream into JPEG frames and reaps ffmpeg (${hwaccel} requested)`, async function () {
      this.timeout(30_000);
      const { ws, http } = await startHub({}, { hwaccel });
      const out = await connect(ws('/video_out?headers=1'));
      const enc = await connect(ws('/video_codec?codec=h264&subscribe=0'));
      await enc.until(() => enc.texts.length >= 1, 'started');
      const started = JSON.parse(enc.texts[0]) as { type: string; mode: string };
      assert.equal(started.type, 'started');
      assert.equal(started.mode, hwaccel);
      const h264 = tinyH264(10);
      for (let off = 0; off < h264.length; off += 700) enc.ws.send(h264.subarray(off, off + 700));
      enc.ws.send(JSON.stringify({ type: 'end' }));
      await enc.until(() => enc.texts.length >= 2, 'ended', 20_000);
      const ended = JSON.parse(enc.texts[1]) as { type: string; frames: number; mode: string };
      assert.equal(ended.type, 'ended');
      assert.equal(ended.frames, 10);
      assert.equal(ended.mode, hwaccel === 'cuda' && cudaDecodeAvailable() ? 'cuda' : 'cpu', 'CUDA falls back to CPU');
      await out.until(() => out.binaries.length === 10, '10 decoded frames');
      for (const jpeg of out.binaries) assert.deepEqual(jpegDimensions(jpeg), { width: 64, height: 36 });
      const seqs = out.texts.map((t) => (JSON.parse(t) as BroadcastHeader).seq);
      assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const s = await getStatus(http);
      assert.equal(s.codecSessions.length, 1);
      assert.equal(s.codecSessions[0].inBytes, h264.length);
      await closeWs(enc.ws);
      await eventually(async () => (await getStatus(http)).codecSessions.length === 0, 'session removed');
      await closeWs(out.ws);
    });
  }

  it('kills the decoder when the socket closes mid-stream', async function () {
    this.timeout(20_000);
    const { ws, http, hub } = await startHub({}, { hwaccel: 'cpu' });
    const enc = await connect(ws('/video_codec?codec=h264'));
    enc.ws.send(tinyH264(10).subarray(0, 500));
    await eventually(async () => (await getStatus(http)).codecSessions[0]?.pid != null, 'decoder running');
    const pid = (await getStatus(http)).codecSessions[0].pid!;
    assert.doesNotThrow(() => process.kill(pid, 0));
    const decoderRes = hub.resources().filter((r) => r.kind === 'decoder-process');
    assert.equal(decoderRes.length, 1);
    await closeWs(enc.ws);
    await eventually(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, `ffmpeg pid ${pid} reaped`);
  });
});
