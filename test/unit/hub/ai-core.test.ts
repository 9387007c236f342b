/**
 * The hub's AI core with a real model (the engine's inference worker on the CPU) on a real clip's JPEGs, through a
 * real hub: frames in /video_in, processed frames out of /video_out. Every output is compared with the engine's own
 * worker run on the same decoded input (PSNR ≥ 45 dB: the difference is the output JPEG alone).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { WorkerUpscaler } from '../../../src/engine/inference/infer-worker';
import { decodeJpeg } from '../../../src/hub/ai/jpeg-rgb';
import type { AiStatus } from '../../../src/protocol/hub-status';
import { basicClip, FAST_MODEL, psnr } from '../engine/helpers';
import { clipJpegs, closeHubs, closeWs, connect, eventually, jpegDimensions, SAMPLE, startHub } from './helpers';
import { closePeers, routerPeer } from './router-peer';

interface Header {
  seq?: number;
  source?: string;
  kind?: string;
}

describe('hub AI core (real model, real hub)', function () {
  this.timeout(180_000);
  afterEach(closeHubs);

  it('runs every frame it keeps through the model on both CPU workers: out = in − counted drops', async () => {
    const frames = clipJpegs(SAMPLE);
    assert.equal(frames.length, 12);
    const { hub, ws } = await startHub({
      ai_enabled: true,
      ai_model: FAST_MODEL,
      ai_devices: 'cpu,cpu',
      ai_temporal: 'off', // the model's output itself, to compare with the engine's
    });
    const sub = await connect(ws('/video_out?headers=1'));
    const pub = await connect(ws('/video_in?subscribe=0'));
    for (let i = 0; i < frames.length; i++) {
      pub.ws.send(JSON.stringify({ source: 'cam', kind: 'raw', seq: i }));
      pub.ws.send(frames[i]);
    }
    await new Promise<void>((resolve) => {
      const check = () =>
        hub.aiStatus().enabled && (hub.aiStatus() as AiStatus).in.frames === 12 ? resolve() : setTimeout(check, 20);
      check();
    });
    await hub.aiIdle();
    const s = hub.aiStatus() as AiStatus;
    assert.equal(s.in.frames, 12);
    assert.equal(s.out.frames, 12 - s.dropped.frames, `out ${s.out.frames}, dropped ${s.dropped.frames}`);
    assert.equal(s.dropped.failed, 0, s.lastError ?? '');
    assert.ok(s.devices.length === 2 && s.devices.every((d) => d.frames > 0), JSON.stringify(s.devices));
    assert.ok(s.latencyMs.p50 !== null && s.latencyMs.p99 !== null && s.latencyMs.p99 >= s.latencyMs.p50);
    await sub.until(() => sub.binaries.length === s.out.frames, 'every processed frame at the subscriber');
    const headers = sub.texts.map((t) => JSON.parse(t) as Header);
    assert.ok(headers.every((h) => h.kind === 'processed' && h.source === 'cam'));
    const seqs = headers.map((h) => h.seq as number);
    assert.deepEqual(
      [...seqs].sort((a, b) => a - b),
      seqs,
      'in arrival order',
    );
    const engine = await WorkerUpscaler.start({ modelRef: FAST_MODEL, tile: 0, pad: 10, ep: 'cpu' });
    try {
      for (let k = 0; k < seqs.length; k++) {
        const input = await decodeJpeg('ffmpeg', frames[seqs[k]]);
        const expected = await engine.upscale(input.rgb, input.width, input.height);
        assert.deepEqual(jpegDimensions(sub.binaries[k]), { width: 640, height: 360 });
        const got = await decodeJpeg('ffmpeg', sub.binaries[k]);
        const db = psnr(got.rgb, expected);
        assert.ok(db >= 45, `frame ${seqs[k]}: ${db.toFixed(1)} dB against the engine's worker`);
      }
    } finally {
      await engine.close();
    }
    await closeWs(pub.ws);
    await closeWs(sub.ws);
  });
});

describe('hub AI core: ai/process, ai/config, a /video_codec source (null model)', function () {
  this.timeout(60_000);
  afterEach(closeHubs);

  it('ai/process takes one JPEG and returns the enhanced JPEG; ai/config switches the core on and off', async () => {
    const [jpeg] = clipJpegs(basicClip(12));
    const { http } = await startHub({ ai_model: 'null', ai_temporal: 'off' });
    const off = await fetch(`${http}/api/v1/ai/process`, { method: 'POST', body: new Uint8Array(jpeg) });
    assert.equal(off.status, 503);
    assert.match(((await off.json()) as { detail: string }).detail, /--ai/);
    const on = await fetch(`${http}/api/v1/ai/config`, { method: 'POST', body: JSON.stringify({ enabled: true }) });
    assert.equal(on.status, 200, await on.clone().text());
    const st = (await (await fetch(`${http}/api/v1/ai/status`)).json()) as AiStatus;
    assert.equal(st.enabled, true);
    assert.equal(st.model, 'null');
    const res = await fetch(`${http}/api/v1/ai/process`, { method: 'POST', body: new Uint8Array(jpeg) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    const out = Buffer.from(await res.arrayBuffer());
    assert.deepEqual(jpegDimensions(out), { width: 256, height: 144 });
    const bad = await fetch(`${http}/api/v1/ai/process`, { method: 'POST', body: 'not a jpeg' });
    assert.equal(bad.status, 400);
    const offAgain = await fetch(`${http}/api/v1/ai/config`, { method: 'POST', body: '{"enabled": false}' });
    assert.equal(offAgain.status, 200);
    assert.equal(((await (await fetch(`${http}/api/v1/ai/status`)).json()) as { enabled: boolean }).enabled, false);
  });

  it('null model with --scale 2 and a /video_codec source: processed frames at twice the size', async () => {
    const { hub, ws } = await startHub({ ai_enabled: true, ai_model: 'null', ai_scale: 2, pace_codec_output: false });
    const sub = await connect(ws('/video_out'));
    const enc = await connect(ws('/video_codec?codec=h264&subscribe=0'));
    const h264 = execFileSync('ffmpeg', [
      ...['-v', 'error', '-i', basicClip(12), '-c:v', 'libx264', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', 'pipe:1'],
    ]);
    enc.ws.send(h264);
    enc.ws.send(JSON.stringify({ type: 'end' }));
    await enc.until(() => enc.texts.some((t) => t.includes('"ended"')), 'ended', 60_000);
    await hub.aiIdle();
    const s = hub.aiStatus() as AiStatus;
    assert.equal(s.in.frames, 12);
    assert.equal(s.out.frames + s.dropped.frames, 12);
    await sub.until(() => sub.binaries.length === s.out.frames, 'processed frames');
    for (const b of sub.binaries) assert.deepEqual(jpegDimensions(b), { width: 128, height: 72 });
    await closeWs(enc.ws);
    await closeWs(sub.ws);
  });
});

describe('hub AI core on the bus (real ZeroMQ ROUTER)', function () {
  this.timeout(60_000);
  afterEach(async () => {
    await closeHubs();
    await closePeers();
  });

  it('processes frames bus clients sent and answers each; the answer to our own frame is not processed again', async () => {
    const router = await routerPeer(undefined, { answerControl: true });
    const { hub, ws } = await startHub({
      ai_enabled: true,
      ai_model: 'null',
      ai_temporal: 'off',
      relay_enabled: true,
      zmq_endpoint: router.endpoint,
      zmq_reconnect_ms: 50,
    });
    await eventually(() => hub.status().relay.linked, 'linked');
    const [jpeg] = clipJpegs(SAMPLE, 1);
    await router.send('AI_WORKER', 'CAM', jpeg);
    // blankend's frontend uses our default client id: with nothing of ours unanswered, its frame is a client's.
    await router.send('AI_WORKER', 'WEB_FRONTEND', jpeg);
    await eventually(() => router.data().length === 2, 'both processed frames back at the ROUTER');
    assert.deepEqual(
      router
        .data()
        .map((m) => m.clientId)
        .sort(),
      ['CAM', 'WEB_FRONTEND'],
    );
    for (const m of router.data()) assert.deepEqual(jpegDimensions(m.data), { width: 640, height: 360 });
    const pub = await connect(ws('/video_in?subscribe=0'));
    pub.ws.send(jpeg); // processed, then sent to the relay under WEB_FRONTEND
    await eventually(() => router.data().length === 3, 'our processed local frame at the ROUTER');
    await router.send('AI_WORKER', 'WEB_FRONTEND', router.data()[2].data); // a worker answering it
    await eventually(() => hub.status().relay.recv.frames === 3, 'the answer received');
    await hub.aiIdle();
    assert.equal((hub.aiStatus() as AiStatus).in.frames, 3, 'the answer is not taken by the AI core');
    await closeWs(pub.ws);
  });
});

describe('hub AI core: per-source temporal state (the engine temporal stage)', function () {
  this.timeout(60_000);
  afterEach(closeHubs);

  it('keeps a temporal stage per source, and a scene cut resets only that source’s', async () => {
    const [still] = clipJpegs(SAMPLE, 1);
    const red = execFileSync('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'color=c=red:s=160x90', '-frames:v', '1', '-f', 'mjpeg', 'pipe:1'],
    ]);
    const { hub, ws } = await startHub({ ai_enabled: true, ai_model: 'null', ai_temporal: 'medium' });
    const pub = await connect(ws('/video_in?subscribe=0'));
    const sources = () => (hub.aiStatus() as AiStatus).sources;
    const out = (id: string) => sources().find((s) => s.id === id)?.out ?? 0;
    // One frame at a time, each out before the next goes in (so newest-wins drops none).
    const send = async (source: string, jpeg: Buffer) => {
      const before = out(source);
      pub.ws.send(JSON.stringify({ source, kind: 'raw' }));
      pub.ws.send(jpeg);
      await eventually(() => out(source) === before + 1, `${source} frame out`, 30_000);
    };
    for (const jpeg of [still, still, still, red]) await send('a', jpeg);
    for (const jpeg of [still, still]) await send('b', jpeg);
    const [a, b] = ['a', 'b'].map((id) => sources().find((s) => s.id === id));
    assert.ok(a && b);
    assert.equal(a.sceneCuts, 1, 'the red frame after the still ones is a cut');
    assert.ok(a.blendedFrames >= 2, `a blended ${a.blendedFrames}`);
    assert.equal(b.sceneCuts, 0, 'b has its own state: a’s cut is not b’s');
    assert.equal(b.blendedFrames, 1, 'b’s second frame blends with b’s first only');
    await closeWs(pub.ws);
  });
});
