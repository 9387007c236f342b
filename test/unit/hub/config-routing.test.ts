import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Backoff } from '../../../src/hub/backoff';
import { parseHubArgs } from '../../../src/hub/cli';
import { HubConfigError, resolveHubConfig } from '../../../src/hub/config';
import { FrameCounter } from '../../../src/hub/counters';
import { routeIngressFrame, routeReceivedFrame } from '../../../src/hub/relay-routing';
import { parseFrameHeader, parseHubStatus } from '../../../src/protocol/hub-status';
import { closeHubs, startHub, tempDir } from './helpers';

describe('hub units: config, args, routing, counters, headers', () => {
  afterEach(closeHubs);

  it('layers defaults < file (blankend stream section) < env < flags', () => {
    const dir = tempDir();
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        stream: {
          relay_enabled: true,
          zmq_endpoint: 'tcp://10.0.0.1:8888',
          send_queue_size: 9,
          forward_recv_client_id: 'A, B,A',
          heartbeat_payload: { type: 'hb' },
          jpeg_quality: 80, // a seed key we do not use: ignored
        },
      }),
    );
    const c = resolveHubConfig({
      file,
      env: { BLANKEND_ZMQ_IDENTITY: 'ENVID', HUAJU4K_HUB_HEARTBEAT_INTERVAL_MS: '250', BLANKEND_RELAY_ENABLED: '0' },
      flags: { port: '0', relay_enabled: true, zmq_endpoint: 'tcp://127.0.0.1:9' },
    });
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 0);
    assert.equal(c.relayEnabled, true);
    assert.equal(c.relay.endpoint, 'tcp://127.0.0.1:9');
    assert.equal(c.relay.identity, 'ENVID');
    assert.equal(c.relay.sendQueueSize, 9);
    assert.equal(c.relay.heartbeatIntervalMs, 250);
    assert.deepEqual(c.relay.forwardRecvClientIds, ['A', 'B']);
    assert.equal(c.relay.heartbeatPayload?.toString(), '{"type":"hb"}');
    assert.equal(resolveHubConfig({ env: { BLANKEND_RELAY_ENABLED: 'false' } }).relayEnabled, false);
  });

  it('names the bad key or file', () => {
    assert.throws(() => resolveHubConfig({ flags: { send_queue_size: 0 } }), /stream\.send_queue_size/);
    assert.throws(() => resolveHubConfig({ flags: { broadcast_source: 'both' } }), /broadcast_source/);
    assert.throws(() => resolveHubConfig({ file: '/nonexistent/hub.json' }), /\/nonexistent\/hub\.json/);
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.json'), '{');
    assert.throws(() => resolveHubConfig({ file: join(dir, 'bad.json') }), HubConfigError);
  });

  it('parses the CLI: --relay turns the relay on', () => {
    const a = parseHubArgs(['--port', '0', '--relay=tcp://127.0.0.1:5555', '--identity', 'X', '--cpu']);
    assert.deepEqual(a.flags, {
      port: '0',
      zmq_endpoint: 'tcp://127.0.0.1:5555',
      zmq_identity: 'X',
      prefer_gpu: false,
      relay_enabled: true,
    });
    assert.throws(() => parseHubArgs(['--bogus']), /unknown option --bogus/);
    assert.throws(() => parseHubArgs(['--port']), /--port needs a value/);
  });

  it('routes received frames: echo and forward targets once each, broadcast only from the chosen source', () => {
    const cfg = {
      echoBack: true,
      forwardRecvEnabled: true,
      forwardRecvClientIds: ['F', 'SRC'],
      forwardRecvOnly: false,
    };
    assert.deepEqual(routeReceivedFrame(cfg, 'ingress', 'SRC'), { targets: ['SRC', 'F'], broadcast: false });
    // the worker's answer to our own ingress is never echoed back to it
    assert.deepEqual(routeReceivedFrame(cfg, 'ingress', 'SRC', true), { targets: ['F'], broadcast: false });
    assert.deepEqual(routeReceivedFrame({ ...cfg, forwardRecvOnly: true }, 'relay', 'SRC'), {
      targets: ['F'],
      broadcast: true,
    });
    assert.deepEqual(routeIngressFrame('relay', true), { toRelay: true, broadcast: false });
    assert.deepEqual(routeIngressFrame('relay', false), { toRelay: false, broadcast: true });
    assert.deepEqual(routeIngressFrame('ingress', true), { toRelay: true, broadcast: true });
  });

  it('counts fps over complete seconds', () => {
    const c = new FrameCounter(2);
    for (let i = 0; i < 20; i++) c.add(10, 10_000 + i * 50); // 20 frames in second 10
    for (let i = 0; i < 10; i++) c.add(10, 11_000 + i * 100); // 10 frames in second 11
    assert.equal(c.fps(12_500), 15);
    assert.equal(c.fps(20_000), 0);
    assert.equal(c.snapshot(12_000).bytes, 300);
  });

  it('backs off exponentially to a cap and resets', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000]);
    b.reset();
    assert.equal(b.next(), 100);
    const j = new Backoff({ initialMs: 100, jitter: 0.5, random: () => 1 });
    assert.equal(j.next(), 150);
  });

  it('parses headers strictly and accepts only our status version', async () => {
    assert.deepEqual(parseFrameHeader('{"source":"a","kind":"processed","seq":3,"ts":1.5}'), {
      source: 'a',
      kind: 'processed',
      seq: 3,
      ts: 1.5,
    });
    assert.match(parseFrameHeader('[1]') as string, /object/);
    assert.match(parseFrameHeader('{"seq":"1"}') as string, /seq/);
    const { hub } = await startHub();
    const s = hub.status();
    assert.ok(parseHubStatus(JSON.parse(JSON.stringify(s))));
    assert.equal(parseHubStatus({ ...s, version: 2 }), undefined);
    assert.equal(parseHubStatus({ ...s, relay: null }), undefined);
  });
});
