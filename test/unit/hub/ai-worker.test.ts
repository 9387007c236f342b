/**
 * `huaju4k ai-worker --relay …` (a DEALER serving a blankend-style ROUTER) and `huaju4k hub --bind-relay …` (a ROUTER
 * that workers dial into), as real processes with real ZeroMQ sockets and the null model.
 */
import assert from 'node:assert/strict';
import { runCli } from '../engine/helpers';
import { clipJpegs, closeWs, connect, eventually, jpegDimensions, SAMPLE } from './helpers';
import { startHubProcess, stopHubProcesses } from './hub-process';
import { closePeers, routerPeer } from './router-peer';

const sampleJpeg = (): Buffer => clipJpegs(SAMPLE, 1)[0];

describe('huaju4k ai-worker and hub --bind-relay (real processes, real ZeroMQ)', function () {
  this.timeout(90_000);
  afterEach(async () => {
    await stopHubProcesses();
    await closePeers();
  });

  it('ai-worker serves a ROUTER: each client frame comes back processed to that client', async () => {
    const router = await routerPeer(undefined, { answerControl: true });
    const w = await startHubProcess(
      ['--relay', router.endpoint, '--model', 'null', '--temporal', 'off'],
      {},
      'ai-worker',
    );
    await eventually(async () => (await w.status()).relay.linked, 'worker linked', 30_000);
    const jpeg = sampleJpeg();
    await router.send('AI_WORKER', 'CAM', jpeg);
    await router.send('AI_WORKER', 'PHONE', jpeg);
    await eventually(() => router.data().length === 2, 'both frames back', 30_000);
    assert.deepEqual(
      router
        .data()
        .map((m) => m.clientId)
        .sort(),
      ['CAM', 'PHONE'],
    );
    for (const m of router.data()) assert.deepEqual(jpegDimensions(m.data), { width: 640, height: 360 });
  });

  it('ai-worker without --relay says what it needs (exit 2)', async () => {
    const res = await runCli(['ai-worker', '--model', 'null']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--relay tcp:\/\/HOST:PORT is required/);
  });

  it('a hub with --bind-relay hands its ingress to a dialled-in ai-worker and broadcasts what comes back', async () => {
    const hub = await startHubProcess(['--bind-relay', 'tcp://127.0.0.1:*']);
    const endpoint = (await hub.status()).boundRelay?.endpoint as string;
    assert.match(endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    const worker = await startHubProcess(
      ['--relay', endpoint, '--model', 'null', '--temporal', 'off'],
      {},
      'ai-worker',
    );
    await eventually(async () => (await worker.status()).relay.linked, 'worker linked to the hub', 30_000);
    await eventually(async () => (await hub.status()).boundRelay?.workers.length === 1, 'hub knows the worker');
    const sub = await connect(hub.ws('/video_out?headers=1'));
    const pub = await connect(hub.ws('/video_in?subscribe=0'));
    pub.ws.send(JSON.stringify({ source: 'cam', kind: 'raw', seq: 1 }));
    pub.ws.send(sampleJpeg());
    await sub.until(() => sub.binaries.length === 1, 'the processed frame', 30_000);
    assert.deepEqual(jpegDimensions(sub.binaries[0]), { width: 640, height: 360 });
    const header = JSON.parse(sub.texts[0]) as { source: string; kind: string };
    assert.deepEqual([header.source, header.kind], ['cam', 'processed']);
    const b = (await hub.status()).boundRelay;
    assert.deepEqual([b?.sent, b?.received, b?.dropped], [1, 1, 0]);
    await closeWs(pub.ws);
    await closeWs(sub.ws);
  });
});
