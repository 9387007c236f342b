/**
 * record/start and record/stop with a real ffmpeg: a source's frames as received (and across a decoder restart)
 * land in a playable file; a hub process stopped with SIGTERM finishes the file it was writing.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AiStatus } from '../../../src/protocol/hub-status';
import { ffprobeJson, streams } from '../engine/helpers';
import {
  clipJpegs,
  closeHubs,
  closeWs,
  connect,
  encodedStream,
  eventually,
  SAMPLE,
  startHub,
  taggedJpeg,
  tempDir,
  tinyJpeg,
} from './helpers';
import { startHubProcess, stopHubProcesses } from './hub-process';

interface RecordAnswer {
  ok: boolean;
  path: string | null;
  frames?: number;
  detail?: string;
}

async function post(http: string, path: string, body: unknown): Promise<{ status: number; body: RecordAnswer }> {
  const res = await fetch(`${http}/api/v1/realtime_pipeline/${path}`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as RecordAnswer };
}

function videoFrames(path: string): number {
  const info = ffprobeJson(path, ['-count_frames']) as { streams: { codec_type: string; nb_read_frames?: string }[] };
  return Number(info.streams.find((s) => s.codec_type === 'video')?.nb_read_frames ?? 0);
}

describe('hub recording (real ffmpeg)', function () {
  this.timeout(90_000);
  afterEach(async () => {
    await closeHubs();
    await stopHubProcesses();
  });

  it('records a /video_in source as received and answers {ok, path}; a second start is refused', async () => {
    const dir = tempDir();
    const { http, ws } = await startHub({ record_dir: dir });
    const start = await post(http, 'record/start', { client_id: 'cam' });
    assert.equal(start.status, 200);
    assert.equal(start.body.ok, true);
    assert.ok(start.body.path?.startsWith(dir), start.body.path ?? '');
    assert.equal((await post(http, 'record/start', { source: 'cam' })).status, 409);
    const pub = await connect(ws('/video_in?subscribe=0'));
    for (let i = 0; i < 15; i++) {
      pub.ws.send(JSON.stringify({ source: i % 3 === 0 ? 'other' : 'cam' }));
      pub.ws.send(taggedJpeg(i, tinyJpeg(i % 5)));
    }
    await eventually(async () => {
      const rt = await (await fetch(`${http}/api/v1/realtime_pipeline/status`)).json();
      return (rt as { status: { recordings: { frames: number }[] } }).status.recordings[0]?.frames === 10;
    }, 'ten frames of cam written');
    const stop = await post(http, 'record/stop', { source: 'cam' });
    assert.deepEqual([stop.body.ok, stop.body.path, stop.body.frames], [true, start.body.path, 10]);
    assert.equal(videoFrames(start.body.path as string), 10);
    assert.deepEqual((await post(http, 'record/stop', { source: 'cam' })).body, { ok: false, path: null });
    assert.equal((await post(http, 'record/start', { source: 'cam', kind: 'processed' })).status, 409, 'AI off');
    await closeWs(pub.ws);
  });

  it('keeps recording a /video_codec source across a decoder reset', async () => {
    const dir = tempDir();
    const { http, ws } = await startHub({ record_dir: dir, pace_codec_output: false }, { hwaccel: 'cpu' });
    const enc = await connect(ws('/video_codec?codec=h264&subscribe=0'));
    await enc.until(() => enc.texts.length >= 1, 'started');
    const start = await post(http, 'record/start', { source: 'codec:c1' });
    assert.equal(start.body.ok, true, start.body.detail);
    const stream = encodedStream('h264', 10);
    const written = async () => {
      const rt = await (await fetch(`${http}/api/v1/realtime_pipeline/status`)).json();
      return (rt as { status: { recordings: { frames: number }[] } }).status.recordings[0]?.frames ?? 0;
    };
    enc.ws.send(stream);
    await eventually(async () => (await written()) >= 3, 'some of the first decoder’s frames recorded', 30_000);
    const before = await written();
    enc.ws.send(JSON.stringify({ type: 'reset' }));
    enc.ws.send(stream);
    enc.ws.send(JSON.stringify({ type: 'end' }));
    await enc.until(() => enc.texts.some((t) => t.includes('"ended"')), 'ended', 30_000);
    const stop = await post(http, 'record/stop', { source: 'codec:c1' });
    assert.equal(stop.body.ok, true);
    const n = videoFrames(start.body.path as string);
    assert.ok(n >= before + 10 && n === stop.body.frames, `${before} frames, then the new decoder's 10: got ${n}`);
    await closeWs(enc.ws);
  });
});

describe('hub recording: processed frames, hub shutdown (real ffmpeg)', function () {
  this.timeout(90_000);
  afterEach(async () => {
    await closeHubs();
    await stopHubProcesses();
  });

  it('records a source as processed by the AI core (null model: ×4 frames)', async () => {
    const { http, ws, hub } = await startHub({ record_dir: tempDir(), ai_enabled: true, ai_model: 'null' });
    const start = await post(http, 'record/start', { source: 'cam', kind: 'processed' });
    assert.equal(start.body.ok, true, start.body.detail);
    const pub = await connect(ws('/video_in?subscribe=0'));
    const frames = clipJpegs(SAMPLE, 3);
    for (let i = 0; i < frames.length; i++) {
      pub.ws.send(JSON.stringify({ source: 'cam', kind: 'raw' }));
      pub.ws.send(frames[i]);
      // One at a time, so newest-wins drops none.
      await eventually(() => (hub.aiStatus() as AiStatus).out.frames === i + 1, `processed frame ${i}`, 30_000);
    }
    const stop = await post(http, 'record/stop', { source: 'cam', kind: 'processed' });
    assert.deepEqual([stop.body.ok, stop.body.frames], [true, 3]);
    const v = streams(start.body.path as string).find((x) => x.codec_type === 'video');
    assert.deepEqual([v?.width, v?.height], [640, 360]);
    assert.equal(videoFrames(start.body.path as string), 3);
    await closeWs(pub.ws);
  });

  it('a hub process stopped with SIGTERM finishes the file it was recording', async () => {
    const dir = tempDir();
    const h = await startHubProcess([], { record_dir: dir });
    const start = await post(h.http, 'record/start', { source: 'cam' });
    const pub = await connect(h.ws('/video_in?subscribe=0'));
    for (let i = 0; i < 8; i++) {
      pub.ws.send(JSON.stringify({ source: 'cam' }));
      pub.ws.send(tinyJpeg(i));
    }
    await eventually(async () => {
      const rt = await (await fetch(`${h.http}/api/v1/realtime_pipeline/status`)).json();
      return (rt as { status: { recordings: { frames: number }[] } }).status.recordings[0]?.frames === 8;
    }, 'eight frames written');
    await closeWs(pub.ws);
    await h.stop();
    assert.equal(h.exitCode(), 0, h.stderr());
    assert.ok(existsSync(start.body.path as string));
    assert.equal(videoFrames(start.body.path as string), 8);
  });
});
