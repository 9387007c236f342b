/**
 * `/video_codec` sessions against a real ffmpeg: decoder death, codec names, backpressure listeners, held input.
 * ffmpeg is paused with SIGSTOP where a test needs its stdin pipe full (deterministic backpressure) and resumed or
 * killed before the test ends; the hub reaps it either way.
 */
import assert from 'node:assert/strict';
import type { HubStatus } from '../../../src/protocol/hub-status';
import {
  closed,
  closeHubs,
  closeWs,
  connect,
  encodedStream,
  eventually,
  processGone,
  refusedUpgrade,
  startHub,
  tinyH264,
} from './helpers';

interface Control {
  type: string;
  code?: string;
  message?: string;
  codec?: string;
  frames?: number;
}

function controls(texts: string[]): Control[] {
  return texts.map((t) => JSON.parse(t) as Control);
}

async function sessionPid(hub: { status(): HubStatus }): Promise<number> {
  await eventually(() => hub.status().codecSessions[0]?.pid != null, 'decoder running', 15_000);
  return hub.status().codecSessions[0].pid as number;
}

/** Sends `data` in `size`-byte messages without waiting (a client that streams as fast as the socket allows). */
function stream(ws: import('ws').WebSocket, data: Buffer, size: number): void {
  for (let off = 0; off < data.length; off += size) ws.send(data.subarray(off, off + size));
}

const stopped = new Set<number>();
function sigstop(pid: number): void {
  process.kill(pid, 'SIGSTOP');
  stopped.add(pid);
}
function sigcont(pid: number): void {
  stopped.delete(pid);
  try {
    process.kill(pid, 'SIGCONT');
  } catch {
    // already gone
  }
}

describe('hub /video_codec sessions (real ffmpeg)', function () {
  this.timeout(60_000);
  afterEach(async () => {
    for (const pid of [...stopped]) sigcont(pid);
    await closeHubs();
  });

  it('reports a decoder killed mid-stream to the client at once, closes the session and forgets it', async () => {
    const { ws, hub } = await startHub({}, { hwaccel: 'cpu' });
    const enc = await connect(ws('/video_codec?codec=h264&subscribe=0'));
    enc.ws.send(tinyH264(10).subarray(0, 500));
    const pid = await sessionPid(hub);
    const gone = closed(enc.ws);
    process.kill(pid, 'SIGKILL');
    await enc.until(() => controls(enc.texts).some((c) => c.type === 'error'), 'an error message', 20_000);
    const err = controls(enc.texts).find((c) => c.type === 'error') as Control;
    assert.equal(err.code, 'decoder_exited');
    assert.match(err.message ?? '', /SIGKILL/);
    const { code } = await gone;
    assert.equal(code, 1011, 'closed with "internal error" so the client knows to reconnect');
    await eventually(() => hub.status().codecSessions.length === 0, 'session removed', 20_000);
  });

  it('reports a decoder killed while the socket is paused for backpressure (no drain will ever come)', async () => {
    const { ws, hub } = await startHub({}, { hwaccel: 'cpu' });
    const enc = await connect(ws('/video_codec?codec=h264&subscribe=0'));
    enc.ws.send(tinyH264(10).subarray(0, 500));
    const pid = await sessionPid(hub);
    sigstop(pid); // ffmpeg stops reading: its stdin pipe fills and the hub must pause the socket
    stream(enc.ws, Buffer.alloc(2 * 1024 * 1024, 0x42), 64 * 1024);
    await eventually(() => hub.status().codecSessions[0].backpressured, 'socket paused for backpressure', 20_000);
    const gone = closed(enc.ws);
    process.kill(pid, 'SIGKILL');
    await enc.until(() => controls(enc.texts).some((c) => c.type === 'error'), 'an error message', 20_000);
    assert.equal(controls(enc.texts).find((c) => c.type === 'error')?.code, 'decoder_exited');
    assert.equal((await gone).code, 1011);
    await eventually(() => hub.status().codecSessions.length === 0, 'session removed', 20_000);
  });

  it('accepts codec=h265 (blankend clients say h265) and decodes HEVC', async () => {
    const { ws } = await startHub({}, { hwaccel: 'cpu' });
    const out = await connect(ws('/video_out'));
    const enc = await connect(ws('/video_codec?codec=h265&subscribe=0'));
    await enc.until(() => enc.texts.length >= 1, 'started');
    assert.equal(controls(enc.texts)[0].codec, 'hevc');
    stream(enc.ws, encodedStream('hevc', 5), 1000);
    enc.ws.send(JSON.stringify({ type: 'end' }));
    await enc.until(() => controls(enc.texts).some((c) => c.type === 'ended'), 'ended', 30_000);
    assert.equal(controls(enc.texts).find((c) => c.type === 'ended')?.frames, 5);
    await out.until(() => out.binaries.length === 5, 'five frames');
    await closeWs(enc.ws);
    await closeWs(out.ws);
  });

  it('refuses an unknown codec with 400 and says which names work', async () => {
    const { ws } = await startHub();
    const r = await refusedUpgrade(ws('/video_codec?codec=vp9'));
    assert.equal(r.status, 400);
    assert.match(r.body, /vp9/);
    assert.match(r.body, /h265/);
  });

  it('waits for one drain however many tiny messages arrive while paused (no MaxListenersExceeded)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const { ws, hub } = await startHub({}, { hwaccel: 'cpu' });
      const enc = await connect(ws('/video_codec?codec=h264&subscribe=0'));
      const h264 = encodedStream('h264', 60, '640x360');
      enc.ws.send(h264.subarray(0, 200));
      const pid = await sessionPid(hub);
      sigstop(pid);
      stream(enc.ws, h264.subarray(200), 100);
      await eventually(() => hub.status().codecSessions[0].backpressured, 'socket paused for backpressure', 20_000);
      sigcont(pid);
      enc.ws.send(JSON.stringify({ type: 'end' }));
      await enc.until(() => controls(enc.texts).some((c) => c.type === 'ended'), 'ended', 40_000);
      assert.equal(controls(enc.texts).find((c) => c.type === 'ended')?.frames, 60, 'every byte reached ffmpeg');
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      assert.deepEqual(
        warnings.filter((w) => w.includes('MaxListenersExceeded')),
        [],
      );
      await closeWs(enc.ws);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('keeps no replay copy of the input on the CPU decoder (only a CUDA attempt needs one)', async () => {
    const { ws, hub } = await startHub({}, { hwaccel: 'cpu' });
    const enc = await connect(ws('/video_codec?codec=h264&subscribe=0'));
    enc.ws.send(tinyH264(10).subarray(0, 200));
    const pid = await sessionPid(hub);
    sigstop(pid); // no frame will come out, so nothing would ever release a replay buffer
    stream(enc.ws, Buffer.alloc(1024 * 1024, 0x42), 64 * 1024);
    await eventually(() => hub.status().codecSessions[0].inBytes >= 128 * 1024, 'input fed', 20_000);
    const s = hub.status().codecSessions[0];
    assert.equal(s.mode, 'cpu');
    assert.equal(s.replayBytes, 0);
    process.kill(pid, 'SIGKILL');
    await eventually(processGone(pid), 'ffmpeg reaped');
  });
});
