import assert from 'node:assert/strict';
import { isCompleteJpeg } from '../../../src/hub/jpeg';
import type { HubStatus } from '../../../src/protocol/hub-status';
import { bigJpeg, closeHubs, closeWs, connect, eventually, jpegTag, startHub, taggedJpeg } from './helpers';
import { closePeer, closePeers, type RouterPeer, routerPeer } from './router-peer';

async function status(http: string): Promise<HubStatus> {
  return (await (await fetch(`${http}/api/v1/stream/status`)).json()) as HubStatus;
}

/** Waits until the hub's receive DEALER is known to the ROUTER (it has sent nothing, so probe by delivery). */
async function linkedHub(keys: Record<string, unknown>, router: RouterPeer) {
  const h = await startHub({ relay_enabled: true, zmq_endpoint: router.endpoint, zmq_reconnect_ms: 50, ...keys });
  await eventually(async () => (await status(h.http)).relay.connected, 'relay connected');
  return h;
}

/** Settles: waits for `pred`, then a further quiet period so duplicates (if any) would have arrived. */
async function settle(pred: () => boolean, what: string): Promise<void> {
  await eventually(pred, what);
  await new Promise((r) => setTimeout(r, 300));
}

describe('hub relay (real ZeroMQ ROUTER)', () => {
  afterEach(async () => {
    await closeHubs();
    await closePeers();
  });

  it('links once the ROUTER answers a link request, and heartbeats from <identity> (one DEALER)', async () => {
    const router = await routerPeer(undefined, { answerControl: true });
    const h = await linkedHub({ zmq_identity: 'W1', heartbeat_interval_ms: 50 }, router);
    await eventually(() => router.control('link_request').length >= 1, 'link request');
    await eventually(() => router.control('heartbeat').length >= 3, 'three heartbeats');
    const hb = JSON.parse(router.control('heartbeat')[0].data.toString()) as { identity: string };
    assert.equal(hb.identity, 'W1');
    assert.equal(router.control('heartbeat')[0].from, 'W1');
    await eventually(async () => (await status(h.http)).relay.linked, 'linked by the answer');
    const s = await status(h.http);
    assert.equal(s.relay.identityConflict, null);
    assert.equal(s.relay.identity, 'W1');
    assert.ok(s.relay.heartbeatAgeMs !== null && s.relay.heartbeatAgeMs < 5000);
    assert.deepEqual(s.relay.loops, { send: true, recv: true, heartbeat: true, linkRequest: false });
    assert.deepEqual(
      s.resources.filter((r) => r.kind === 'zmq-socket').map((r) => r.id),
      ['W1'],
    );
    const loops = s.resources.filter((r) => r.kind === 'relay-loop').map((r) => r.id);
    assert.deepEqual(loops.sort(), ['heartbeat', 'recv', 'send']);
  });

  it('runs no heartbeat or link-request loop when they are disabled, and stops every loop on close', async () => {
    const router = await routerPeer();
    const h = await linkedHub({ heartbeat_enabled: false, link_request_enabled: false }, router);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(router.msgs.length, 0, 'nothing on the control channel');
    const s = await status(h.http);
    assert.equal(s.relay.heartbeatAgeMs, null);
    assert.deepEqual(s.relay.loops, { send: true, recv: true, heartbeat: false, linkRequest: false });
    await h.hub.close();
    assert.deepEqual(h.hub.status().relay.loops, { send: false, recv: false, heartbeat: false, linkRequest: false });
  });

  it('sends each /video_in frame once to the default client id', async () => {
    const router = await routerPeer();
    const h = await linkedHub({ zmq_identity: 'W2', send_queue_size: 64 }, router);
    const pub = await connect(h.ws('/video_in?subscribe=0'));
    for (let i = 0; i < 10; i++) pub.ws.send(taggedJpeg(i));
    await settle(() => router.data().length >= 10, '10 frames at the ROUTER');
    const got = router.data();
    assert.equal(got.length, 10);
    assert.ok(got.every((m) => m.clientId === 'WEB_FRONTEND' && m.from === 'W2'));
    assert.deepEqual(
      got.map((m) => jpegTag(m.data)),
      [...Array(10).keys()],
    );
    await closeWs(pub.ws);
  });

  // Every relay mode, with the expected targets written out by hand (not computed by the code under test).
  const modes: {
    name: string;
    keys: Record<string, unknown>;
    handlerTakes?: boolean;
    targets: string[];
    broadcast: boolean;
  }[] = [
    { name: 'echo_back on (seed default)', keys: { echo_back: true }, targets: ['SRC'], broadcast: false },
    { name: 'echo_back off', keys: { echo_back: false }, targets: [], broadcast: false },
    {
      name: 'forward only to WEB_FRONTEND',
      keys: { echo_back: true, forward_recv_enabled: true, forward_recv_client_id: 'WEB_FRONTEND' },
      targets: ['WEB_FRONTEND'],
      broadcast: false,
    },
    {
      name: 'echo + forward (forward_recv_only off)',
      keys: {
        echo_back: true,
        forward_recv_enabled: true,
        forward_recv_only: false,
        forward_recv_client_id: 'WEB_FRONTEND,B,SRC,B',
      },
      targets: ['SRC', 'WEB_FRONTEND', 'B'],
      broadcast: false,
    },
    {
      name: 'forward list naming only the source',
      keys: { echo_back: true, forward_recv_enabled: true, forward_recv_client_id: 'SRC' },
      targets: ['SRC'],
      broadcast: false,
    },
    {
      name: 'broadcast_source relay, echo on',
      keys: { echo_back: true, broadcast_source: 'relay' },
      targets: ['SRC'],
      broadcast: true,
    },
    {
      name: 'frame handler takes the frame',
      keys: {
        echo_back: true,
        forward_recv_enabled: true,
        forward_recv_client_id: 'WEB_FRONTEND',
        broadcast_source: 'relay',
      },
      handlerTakes: true,
      targets: [],
      broadcast: false,
    },
  ];

  for (const mode of modes) {
    it(`delivers received frames exactly once: ${mode.name}`, async () => {
      const router = await routerPeer();
      const h = await linkedHub(
        {
          zmq_identity: 'W3',
          send_queue_size: 256,
          heartbeat_enabled: false,
          link_request_enabled: false,
          ...mode.keys,
        },
        router,
      );
      const handled: number[] = [];
      h.hub.setRelayFrameHandler((clientId, data) => {
        assert.equal(clientId, 'SRC');
        handled.push(jpegTag(data));
        return mode.handlerTakes === true;
      });
      const sub = await connect(h.ws('/video_out'));
      const n = 12;
      // The receive DEALER is connected once the ROUTER can route to it: retry the first frame until it lands.
      await eventually(async () => {
        if ((await status(h.http)).relay.recv.frames > 0) return true;
        await router.send('W3', 'SRC', taggedJpeg(0));
        await new Promise((r) => setTimeout(r, 30));
        return (await status(h.http)).relay.recv.frames > 0;
      }, 'first frame received by the hub');
      for (let i = 1; i < n; i++) await router.send('W3', 'SRC', taggedJpeg(i));
      await eventually(async () => (await status(h.http)).relay.recv.frames >= n, 'all frames received');
      const recvFrames = (await status(h.http)).relay.recv.frames;
      // Frame 0 may have been sent more than once while probing; count per tag and expect the probe's extra copies
      // to be handled exactly like any frame: each received copy → each target once.
      const copies0 = recvFrames - (n - 1);
      const expected = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        for (const t of mode.targets) expected.set(`${t}#${i}`, i === 0 ? copies0 : 1);
      }
      const total = mode.targets.length * recvFrames;
      await settle(() => router.data().length >= total, `${total} frames at the ROUTER`);
      const seen = new Map<string, number>();
      for (const m of router.data()) {
        assert.equal(m.from, 'W3');
        const key = `${m.clientId}#${jpegTag(m.data)}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      assert.deepEqual(Object.fromEntries(seen), Object.fromEntries(expected));
      assert.equal(handled.length, recvFrames, 'the handler sees every frame first');
      if (mode.broadcast) await settle(() => sub.binaries.length >= recvFrames, 'broadcast');
      else await new Promise((r) => setTimeout(r, 100));
      assert.equal(sub.binaries.length, mode.broadcast ? recvFrames : 0, 'subscribers get each frame once or never');
      const relay = (await status(h.http)).relay;
      assert.equal(relay.recv.handled, mode.handlerTakes ? recvFrames : 0);
      await closeWs(sub.ws);
    });
  }

  it('with broadcast_source relay, local ingress reaches subscribers only via the relay', async () => {
    const router = await routerPeer();
    const h = await linkedHub(
      { broadcast_source: 'relay', link_request_enabled: false, heartbeat_enabled: false },
      router,
    );
    const sub = await connect(h.ws('/video_out'));
    const pub = await connect(h.ws('/video_in?subscribe=0'));
    pub.ws.send(taggedJpeg(5));
    await settle(() => router.data().length === 1, 'frame at the ROUTER');
    assert.equal(sub.binaries.length, 0, 'not broadcast directly');
    // Route back to the hub's receive identity (default AI_WORKER), as a bus returning the processed frame.
    await eventually(async () => {
      await router.send('AI_WORKER', 'WEB_FRONTEND', router.data()[0].data);
      await new Promise((r) => setTimeout(r, 50));
      return sub.binaries.length > 0;
    }, 'frame back through the relay');
    assert.equal(jpegTag(sub.binaries[0]), 5);
    await closeWs(sub.ws);
    await closeWs(pub.ws);
  });

  it('a ROUTER that replies to the routing id it received reaches the hub (one identity for both ways)', async () => {
    const router = await routerPeer();
    const h = await linkedHub(
      { broadcast_source: 'relay', echo_back: false, heartbeat_enabled: false, link_request_enabled: false },
      router,
    );
    const sub = await connect(h.ws('/video_out'));
    const pub = await connect(h.ws('/video_in?subscribe=0'));
    pub.ws.send(taggedJpeg(9));
    await eventually(() => router.data().length === 1, 'frame at the ROUTER');
    const got = router.data()[0];
    assert.equal(got.from, 'AI_WORKER', 'the configured identity, not <identity>-send');
    await router.send(got.from, 'WEB_FRONTEND', got.data); // reply to whoever sent it: no retry, no guessing
    await sub.until(() => sub.binaries.length === 1, 'the reply broadcast', 10_000);
    assert.equal(jpegTag(sub.binaries[0]), 9);
    await closeWs(sub.ws);
    await closeWs(pub.ws);
  });

  it('a 100-frame burst on a healthy link reaches the ROUTER whole with the default send_queue_size', async () => {
    const router = await routerPeer();
    const h = await linkedHub({}, router);
    const pub = await connect(h.ws('/video_in?subscribe=0'));
    for (let i = 0; i < 100; i++) pub.ws.send(taggedJpeg(i));
    await settle(() => router.data().length >= 100, '100 frames at the ROUTER');
    assert.deepEqual(
      router.data().map((m) => jpegTag(m.data)),
      [...Array(100).keys()],
    );
    assert.equal((await status(h.http)).relay.send.dropped, 0);
    await closeWs(pub.ws);
  });

  it('validates frames from the relay: no non-JPEG and nothing over max_frame_bytes reaches subscribers', async function () {
    this.timeout(60_000);
    const router = await routerPeer();
    const h = await linkedHub(
      { broadcast_source: 'relay', heartbeat_enabled: false, link_request_enabled: false, max_frame_bytes: 1 << 20 },
      router,
    );
    const sub = await connect(h.ws('/video_out'));
    const deliver = (tag: number) =>
      eventually(
        async () => {
          if (!sub.binaries.some((b) => jpegTag(b) === tag)) await router.send('AI_WORKER', 'X', taggedJpeg(tag));
          await new Promise((r) => setTimeout(r, 50));
          return sub.binaries.some((b) => jpegTag(b) === tag);
        },
        `valid frame ${tag} through the relay`,
        30_000,
      );
    await deliver(0); // the ROUTER knows the hub's identity now
    await router.send('AI_WORKER', 'X', Buffer.from('this is not a jpeg'));
    await router.send('AI_WORKER', 'X', Buffer.from('\xff\xd8GARBAGE\xff\xd9', 'latin1'));
    await eventually(async () => (await status(h.http)).relay.recv.rejected === 2, 'two frames rejected');
    await router.send('AI_WORKER', 'X', bigJpeg(1, (1 << 20) + 4096)); // over the cap: ZeroMQ drops the peer
    await deliver(2); // the DEALER reconnects and frames flow again
    assert.ok(
      sub.binaries.every((b) => isCompleteJpeg(b) && b.length <= 1 << 20),
      'only valid frames within the cap were broadcast',
    );
    assert.deepEqual([...new Set(sub.binaries.map(jpegTag))].sort(), [0, 2]);
    assert.ok(!router.data().some((m) => !isCompleteJpeg(m.data)), 'rejected frames are not echoed either');
    await closeWs(sub.ws);
  });

  it('ROUTER down → reconnect → delivery resumes, with drops counted while down', async function () {
    this.timeout(30_000);
    const first = await routerPeer();
    const endpoint = first.endpoint;
    const h = await linkedHub({ send_queue_size: 4, heartbeat_interval_ms: 100 }, first);
    const pub = await connect(h.ws('/video_in?subscribe=0'));
    pub.ws.send(taggedJpeg(1));
    await eventually(() => first.data().length === 1, 'frame before the outage');
    await closePeer(first);
    await eventually(async () => !(await status(h.http)).relay.connected, 'relay sees the disconnect');
    for (let i = 100; i < 120; i++) pub.ws.send(taggedJpeg(i));
    await eventually(async () => (await status(h.http)).relay.send.dropped >= 15, 'drops while down');
    const second = await routerPeer(endpoint);
    await eventually(async () => (await status(h.http)).relay.connected, 'reconnected');
    // Paced like a live source: each fresh frame must arrive (a burst larger than the queue would drop by design).
    for (let i = 200; i < 205; i++) {
      pub.ws.send(taggedJpeg(i));
      await eventually(() => second.data().some((m) => jpegTag(m.data) === i), `fresh frame ${i} delivered`);
    }
    const tags = second.data().map((m) => jpegTag(m.data));
    assert.ok(
      tags.every((t) => t >= 100),
      'nothing from before the outage is replayed',
    );
    const stale = tags.filter((t) => t < 200).length;
    assert.ok(stale <= 4 + 1, `at most the send queue plus the send in progress, got ${stale}`);
    assert.equal(new Set(tags).size, tags.length, 'no duplicates');
    const s = await status(h.http);
    assert.ok(s.relay.reconnects >= 1);
    await eventually(() => second.control('heartbeat').length >= 1, 'heartbeats resume');
    await closeWs(pub.ws);
  });
});
