/**
 * What independent clients did to the hub (issue 28), each against a real `huaju4k hub` process with real sockets,
 * a real ZeroMQ ROUTER and a real ffmpeg: a cut-off POST body, a hung decoder, too many codec sessions, an echo
 * loop with a worker that answers every frame, a duplicate relay identity, stale frames after an outage, malformed
 * relay messages, and unpaced codec output.
 */
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import {
  closed,
  closeWs,
  connect,
  encodedStream,
  eventually,
  jpegTag,
  processGone,
  refusedUpgrade,
  taggedJpeg,
} from './helpers';
import { type HubProcess, startHubProcess, stopHubProcesses } from './hub-process';
import { closePeer, closePeers, routerPeer } from './router-peer';

/** Sends raw HTTP bytes and closes the socket once they are written (a client that gave up mid-body). */
function rawRequest(port: number, text: string, keepOpen = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect(port, '127.0.0.1', () => {
      sock.write(text, () => {
        if (!keepOpen) sock.destroy();
      });
    });
    let answer = '';
    sock.on('data', (d) => {
      answer += d.toString();
    });
    sock.on('close', () => resolve(answer));
    sock.on('error', reject);
  });
}

async function relayHub(endpoint: string, keys: Record<string, string | number> = {}): Promise<HubProcess> {
  const h = await startHubProcess(['--relay', endpoint], { zmq_reconnect_ms: 50, ...keys });
  await eventually(async () => (await h.status()).relay.connected, 'relay connected', 15_000);
  return h;
}

const stopped = new Set<number>();

async function cleanUp(): Promise<void> {
  for (const pid of stopped) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
  }
  stopped.clear();
  await stopHubProcesses();
  await closePeers();
}

describe('hub defects: HTTP request bodies (real hub process)', function () {
  this.timeout(90_000);
  afterEach(cleanUp);

  it('1. survives a POST whose body is cut off mid-way, and times out a body that never finishes', async () => {
    const h = await startHubProcess([], { body_timeout_ms: 500 });
    const head =
      'POST /api/v1/realtime_pipeline/config HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      'Content-Length: 50\r\n\r\n{"max_fps":';
    for (let i = 0; i < 4; i++) await rawRequest(h.port, head);
    const slow = await rawRequest(h.port, head, true);
    assert.match(slow, /^HTTP\/1.1 408/, 'a body that stops arriving is answered 408, then the socket closes');
    assert.equal(h.exitCode(), undefined, `hub still running; stderr: ${h.stderr()}`);
    const health = await fetch(`${h.http}/healthz`);
    assert.equal(health.status, 200);
  });

  it('1b. refuses a body over the size limit with 413', async () => {
    const h = await startHubProcess();
    const res = await fetch(`${h.http}/api/v1/realtime_pipeline/config`, {
      method: 'POST',
      body: JSON.stringify({ pad: 'x'.repeat(200_000) }),
    });
    assert.equal(res.status, 413);
    assert.match(((await res.json()) as { detail: string }).detail, /over 65536 bytes/);
  });
});

/** A hub process with a 1 s stall limit and a /video_codec session whose ffmpeg is stopped, fed 4 MiB. */
async function hungDecoder() {
  const h = await startHubProcess([], { decoder_stall_ms: 1000 });
  const enc = await connect(h.ws('/video_codec?codec=h264&subscribe=0'));
  enc.ws.send(encodedStream('h264', 10).subarray(0, 300));
  await eventually(async () => (await h.status()).codecSessions[0]?.pid != null, 'decoder running', 15_000);
  const pid = (await h.status()).codecSessions[0].pid as number;
  process.kill(pid, 'SIGSTOP');
  stopped.add(pid);
  const gone = closed(enc.ws);
  const chunk = Buffer.alloc(64 * 1024, 0x42);
  for (let i = 0; i < 64; i++) enc.ws.send(chunk);
  return { h, enc, pid, gone };
}

describe('hub defects: codec sessions (real hub process, real ffmpeg)', function () {
  this.timeout(90_000);
  afterEach(cleanUp);

  it('2. a hung decoder: the stall watchdog tells the client, and the session is cleaned up', async () => {
    const { h, enc, pid, gone } = await hungDecoder();
    await enc.until(() => enc.texts.some((t) => t.includes('decoder_stalled')), 'a decoder_stalled error', 30_000);
    const err = JSON.parse(enc.texts.find((t) => t.includes('decoder_stalled')) as string) as { message: string };
    assert.match(err.message, /no progress for 1000 ms/);
    assert.equal((await gone).code, 1011);
    await eventually(processGone(pid), 'ffmpeg killed and reaped', 20_000);
    await eventually(async () => (await h.status()).codecSessions.length === 0, 'session forgotten', 20_000);
  });

  it('2b. a client that leaves while its decoder hangs does not leak the session', async () => {
    const { h, enc, pid } = await hungDecoder();
    await eventually(async () => (await h.status()).codecSessions[0]?.backpressured === true, 'paused', 20_000);
    enc.ws.terminate();
    await eventually(processGone(pid), 'ffmpeg killed and reaped', 20_000);
    await eventually(async () => (await h.status()).resources.every((r) => r.kind !== 'ws-connection'), 'socket gone');
    assert.equal((await h.status()).codecSessions.length, 0);
  });

  it('3. caps codec sessions (total and per client) with a clear refusal', async () => {
    const h = await startHubProcess([], { max_codec_sessions: 3, max_codec_sessions_per_client: 2 });
    const first = await connect(h.ws('/video_codec?codec=h264&subscribe=0'));
    const second = await connect(h.ws('/video_codec?codec=h264&subscribe=0'));
    const perClient = await refusedUpgrade(h.ws('/video_codec?codec=h264'));
    assert.equal(perClient.status, 429);
    assert.match(perClient.body, /2 codec sessions per client/);
    // A second client (from 127.0.0.2) may open one more, then the total caps.
    const third = await connect(h.ws('/video_codec?codec=h264&subscribe=0'), {}, '127.0.0.2');
    const total = await refusedUpgrade(h.ws('/video_codec?codec=h264'), {}, '127.0.0.2');
    assert.equal(total.status, 503);
    assert.match(total.body, /3 codec sessions/);
    assert.equal((await h.status()).codecSessions.length, 3);
    for (const c of [first, second, third]) await closeWs(c.ws);
  });

  it('8. /video_codec output reaches subscribers at the source frame rate, not as fast as it decodes', async () => {
    const h = await startHubProcess();
    const sub = await connect(h.ws('/video_out?headers=1'));
    const enc = await connect(h.ws('/video_codec?codec=h264&subscribe=0'));
    const frames = 30; // 3 s at the stream's 10 fps
    enc.ws.send(encodedStream('h264', frames));
    enc.ws.send(JSON.stringify({ type: 'end' }));
    await enc.until(() => enc.texts.some((t) => t.includes('"ended"')), 'ended', 60_000);
    await sub.until(() => sub.binaries.length === frames, 'every frame');
    const ts = sub.texts.map((t) => (JSON.parse(t) as { hubTs: number }).hubTs);
    const span = ts[ts.length - 1] - ts[0];
    // A lower bound only: a loaded machine can make delivery slower, never faster than the source.
    assert.ok(span >= 0.8 * ((frames - 1) / 10) * 1000, `30 frames at 10 fps spread over ${span} ms`);
    await closeWs(enc.ws);
    await closeWs(sub.ws);
  });
});

describe('hub defects: ZeroMQ relay (real hub process, real ROUTER)', function () {
  this.timeout(90_000);
  afterEach(cleanUp);

  it('4. echo_back does not loop processed frames back to a worker that answers every frame', async () => {
    const worker = await routerPeer(undefined, { answerData: true, answerControl: true });
    const h = await relayHub(worker.endpoint);
    const pub = await connect(h.ws('/video_in?subscribe=0'));
    for (let i = 0; i < 5; i++) pub.ws.send(taggedJpeg(i));
    await eventually(() => worker.data().length >= 5, 'five frames at the worker');
    await eventually(async () => (await h.status()).relay.recv.frames >= 5, 'five answers back');
    await new Promise((r) => setTimeout(r, 1000)); // a loop would multiply the traffic meanwhile
    assert.deepEqual(
      worker.data().map((m) => jpegTag(m.data)),
      [0, 1, 2, 3, 4],
    );
    await closeWs(pub.ws);
  });

  it('5. "linked" only after the ROUTER answers; a duplicate identity is detected and reported', async () => {
    const router = await routerPeer(undefined, { answerControl: true, answerData: true });
    const keys = { link_request_timeout_ms: 200, link_request_retry_interval_ms: 50, link_request_max_retries: 5 };
    const a = await relayHub(router.endpoint, keys);
    await eventually(async () => (await a.status()).relay.linked, 'first hub linked');
    const b = await relayHub(router.endpoint, keys);
    await eventually(async () => (await b.status()).relay.identityConflict !== null, 'conflict reported', 15_000);
    const s = await b.status();
    assert.equal(s.relay.linked, false, 'no answer ever reached the second hub');
    assert.match(s.relay.identityConflict ?? '', /AI_WORKER/);
    const unanswered = await routerPeer(undefined, {});
    const c = await relayHub(unanswered.endpoint, keys);
    await eventually(() => unanswered.control('link_request').length >= 1, 'link request delivered');
    assert.equal((await c.status()).relay.linked, false, 'a delivered but unanswered request does not link');
  });

  it('6. frames older than max_frame_age_ms are not replayed after a worker outage', async function () {
    this.timeout(60_000);
    const first = await routerPeer();
    const endpoint = first.endpoint;
    const h = await relayHub(endpoint, { max_frame_age_ms: 300, send_queue_size: 64 });
    const pub = await connect(h.ws('/video_in?subscribe=0'));
    await closePeer(first);
    await eventually(async () => !(await h.status()).relay.connected, 'relay sees the outage');
    for (let i = 0; i < 20; i++) pub.ws.send(taggedJpeg(i));
    await eventually(async () => (await h.status()).ingest.frames >= 20, 'frames taken in during the outage');
    await new Promise((r) => setTimeout(r, 600)); // every queued frame is now past its age limit
    const second = await routerPeer(endpoint);
    await eventually(async () => (await h.status()).relay.connected, 'reconnected');
    pub.ws.send(taggedJpeg(100));
    await eventually(() => second.data().some((m) => jpegTag(m.data) === 100), 'fresh frame delivered');
    assert.deepEqual(
      second.data().map((m) => jpegTag(m.data)),
      [100],
      'no frame from the outage',
    );
    assert.equal((await h.status()).relay.send.stale, 20);
    await closeWs(pub.ws);
  });

  it('7. relay messages with the wrong number of parts are dropped and counted', async () => {
    const router = await routerPeer(undefined, { answerControl: true });
    const h = await relayHub(router.endpoint, { broadcast_source: 'relay' });
    const sub = await connect(h.ws('/video_out'));
    await eventually(() => router.msgs.length > 0, 'the hub has spoken to the ROUTER');
    await router.sendParts('AI_WORKER', [Buffer.from('SRC'), taggedJpeg(1), Buffer.from('extra')]);
    await router.sendParts('AI_WORKER', [taggedJpeg(2)]);
    await router.send('AI_WORKER', 'SRC', taggedJpeg(3));
    await sub.until(() => sub.binaries.length >= 1, 'the well-formed frame');
    await eventually(async () => (await h.status()).relay.recv.malformed === 2, 'two malformed messages counted');
    assert.deepEqual(sub.binaries.map(jpegTag), [3]);
    await closeWs(sub.ws);
  });
});
