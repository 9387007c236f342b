/**
 * The monitor's backend thumbnails relay against real in-process hubs (`src/hub/server.ts`, port 0): real status
 * polls, real `/video_out` sockets opened by `HubPreviewSubscriber`, real JPEGs. Checks what is subscribed when
 * (panel visible or not, backend reachable, removed, re-pointed, new token), that only the newest frame of a burst
 * is relayed, and that dispose closes everything.
 */
import assert from 'node:assert/strict';
import { BackendFrameRelay } from '../../../src/extension/backends/backend-frame-relay';
import { BackendRegistry } from '../../../src/extension/backends/backend-registry';
import { closeHubs, eventually, jpegTag, type RunningHub, startHub, taggedJpeg } from '../hub/helpers';

interface Received {
  name: string;
  tag: number;
  ts: number;
}

const subscriberIds = (h: RunningHub) => h.hub.status().subscribers.map((s) => s.id);

describe('backends: monitor thumbnail relay against a real hub', () => {
  const registries: BackendRegistry[] = [];
  const relays: BackendFrameRelay[] = [];
  const tokens = new Map<string, string>();
  let received: Received[];

  const make = () => {
    const reg = new BackendRegistry({
      tokenFor: async (name) => tokens.get(name),
      intervalMs: 100,
      timeoutMs: 1000,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    const relay = new BackendFrameRelay(
      reg,
      { postBackendFrame: (name, jpeg, ts) => received.push({ name, tag: jpegTag(jpeg), ts }) },
      { backoff: { initialMs: 50, maxMs: 200 } },
    );
    registries.push(reg);
    relays.push(relay);
    return { reg, relay };
  };
  const framesOf = (name: string) => received.filter((r) => r.name === name);
  const burst = (h: RunningHub, from: number, count: number) => {
    for (let i = from; i < from + count; i++) h.hub.publish(taggedJpeg(i));
  };

  beforeEach(() => {
    received = [];
  });

  afterEach(async () => {
    for (const r of relays.splice(0)) {
      r.dispose();
      await r.settled();
    }
    for (const r of registries.splice(0)) r.dispose();
    tokens.clear();
    await closeHubs();
  });

  it('subscribes only while the panel is visible, relays the newest frame of a burst, then closes', async () => {
    const a = await startHub();
    const b = await startHub({ token: 'b-secret' });
    tokens.set('b', 'b-secret');
    const { reg, relay } = make();
    await reg.configure([
      { name: 'a', url: a.http },
      { name: 'b', url: b.http },
      { name: 'gone', url: 'http://127.0.0.1:9' },
    ]);
    await eventually(() => reg.view('a')?.state === 'reachable' && reg.view('b')?.state === 'reachable', 'reachable');
    // Hidden panel: polls go on, but no broadcast socket is opened.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(relay.subscribed, []);
    assert.deepEqual(subscriberIds(a), []);

    relay.setActive(true);
    assert.deepEqual(relay.subscribed, ['a', 'b'], 'the unreachable backend gets no socket');
    await eventually(() => subscriberIds(a).length === 1 && subscriberIds(b).length === 1, 'one socket per hub');

    // Ten frames in one tick: only the newest reaches the panel.
    burst(a, 0, 10);
    await eventually(() => framesOf('a').some((f) => f.tag === 9), 'frame 9 relayed');
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual(
      framesOf('a').map((f) => f.tag),
      [9],
    );
    burst(a, 10, 10);
    await eventually(() => framesOf('a').some((f) => f.tag === 19), 'frame 19 relayed');
    assert.deepEqual(
      framesOf('a').map((f) => f.tag),
      [9, 19],
    );
    // The token-protected hub is subscribed with its stored token.
    b.hub.publish(taggedJpeg(42));
    await eventually(() => framesOf('b').some((f) => f.tag === 42), 'frame from the token-protected hub');
    assert.ok(framesOf('b').every((f) => Number.isFinite(f.ts)));

    relay.setActive(false);
    assert.deepEqual(relay.subscribed, []);
    await relay.settled();
    await eventually(() => subscriberIds(a).length === 0 && subscriberIds(b).length === 0, 'sockets closed');
    const before = received.length;
    burst(a, 100, 3);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(received.length, before, 'a frame arrived after the panel was hidden');
  });

  it('follows the registry: a new token or URL replaces the socket, removal and dispose close it', async () => {
    const a = await startHub();
    const c = await startHub();
    const { reg, relay } = make();
    relay.setActive(true);
    await reg.configure([{ name: 'a', url: a.http }]);
    await eventually(() => subscriberIds(a).length === 1, 'subscribed once reachable');
    const [first] = subscriberIds(a);

    // A token change restarts the status client and the broadcast socket.
    tokens.set('a', 'new-token');
    await reg.reloadTokens();
    await eventually(
      () => subscriberIds(a).length === 1 && subscriberIds(a)[0] !== first,
      'the old socket replaced by a new one',
    );

    // Re-pointed at another hub: the old hub loses its subscriber, the new one gains it.
    await reg.configure([{ name: 'a', url: c.http }]);
    await eventually(() => subscriberIds(a).length === 0 && subscriberIds(c).length === 1, 'moved to hub c');
    c.hub.publish(taggedJpeg(7));
    await eventually(() => framesOf('a').some((f) => f.tag === 7), 'frames from the new URL');

    // The hub goes away: unreachable → no socket; removed from the setting → nothing either.
    await reg.configure([]);
    assert.deepEqual(relay.subscribed, []);
    await eventually(() => subscriberIds(c).length === 0, 'removed backend unsubscribed');

    await reg.configure([{ name: 'a', url: a.http }]);
    await eventually(() => subscriberIds(a).length === 1, 'subscribed again');
    relay.dispose();
    await relay.settled();
    await eventually(() => subscriberIds(a).length === 0, 'dispose closed the socket');
    relay.setActive(true);
    assert.deepEqual(relay.subscribed, [], 'a disposed relay subscribes nothing');
  });

  it('drops the socket of a hub that stops answering and subscribes again when it is back', async () => {
    const a = await startHub();
    const { reg, relay } = make();
    relay.setActive(true);
    await reg.configure([{ name: 'a', url: a.http }]);
    await eventually(() => relay.subscribed.length === 1, 'subscribed');
    await a.hub.close();
    await eventually(() => reg.view('a')?.state === 'unreachable', 'unreachable after close');
    assert.deepEqual(relay.subscribed, []);
    const back = await startHub({ port: a.port });
    await eventually(() => subscriberIds(back).length === 1, 'subscribed again on the restarted hub');
    assert.deepEqual(relay.subscribed, ['a']);
  });
});
