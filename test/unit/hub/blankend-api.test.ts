/** blankend's status and control API on the hub: real HTTP, answers from the hub's real state. */
import assert from 'node:assert/strict';
import { closeHubs, closeWs, connect, eventually, startHub, taggedJpeg, tinyH264 } from './helpers';

async function call(
  http: string,
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<{ status: number; body: Record<string, unknown>; allow: string | null }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(`${http}${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, allow: res.headers.get('allow') };
}

const VP = '/api/v1/video_processing';
const RT = '/api/v1/realtime_pipeline';

describe("hub: blankend's status and control API", () => {
  afterEach(closeHubs);

  it('pipeline status reports the hub’s real counters and enabled: false', async () => {
    const { http, ws } = await startHub({ subscriber_queue_size: 6 });
    const out = await connect(ws('/video_out'));
    const pub = await connect(ws('/video_in?subscribe=0'));
    pub.ws.send(taggedJpeg(1));
    pub.ws.send(taggedJpeg(2));
    await out.until(() => out.binaries.length === 2, 'two frames');
    const r = await call(http, `${VP}/pipeline/status`);
    assert.equal(r.status, 200);
    const st = r.body.status as Record<string, unknown>;
    assert.equal(st.enabled, false);
    assert.equal(st.reencode_enabled, false);
    assert.equal(st.queue_size, 6);
    assert.equal(st.recv_frames, 2);
    assert.equal(st.broadcast_frames, 2);
    assert.equal(st.clients, 1, 'the /video_out subscriber (the publisher opted out)');
    await closeWs(out.ws);
    await closeWs(pub.ws);
  });

  it('pipeline config refuses what the hub cannot do, with the reason, and accepts the rest', async () => {
    const { http } = await startHub();
    const on = await call(http, `${VP}/pipeline/config`, { method: 'POST', body: { enabled: true } });
    assert.equal(on.status, 400);
    assert.match(String(on.body.detail), /no processing queue/);
    const reenc = await call(http, `${VP}/pipeline/config`, {
      method: 'POST',
      body: { reencode_enabled: true, jpeg_quality: 80 },
    });
    assert.equal(reenc.status, 400);
    assert.match(String(reenc.body.detail), /re-encode/);
    const unknown = await call(http, `${VP}/pipeline/config`, { method: 'POST', body: { turbo: 1 } });
    assert.equal(unknown.status, 400);
    assert.match(String(unknown.body.detail), /unknown key turbo/);
    const off = await call(http, `${VP}/pipeline/config`, { method: 'POST', body: { enabled: false } });
    assert.equal(off.status, 200);
    assert.equal((off.body.status as { enabled: boolean }).enabled, false);
    const bad = await fetch(`${http}${VP}/pipeline/config`, { method: 'POST', body: '{nope' });
    assert.equal(bad.status, 400);
  });

  it('gpu and codec status tell what /video_codec would use, and list live sessions', async function () {
    this.timeout(30_000);
    const { http, ws } = await startHub({}, { hwaccel: 'cpu' });
    const gpu = await call(http, `${VP}/gpu/status`);
    assert.equal(gpu.status, 200);
    assert.equal(typeof gpu.body.gpu_available, 'boolean');
    assert.equal(typeof gpu.body.ts, 'number');
    for (const k of ['onnxruntime', 'cuda', 'metrics']) assert.equal(typeof gpu.body[k], 'object', k);
    const enc = await connect(ws('/video_codec?codec=h264&subscribe=0'));
    enc.ws.send(tinyH264(10));
    await eventually(async () => {
      const c = await call(http, `${VP}/codec/status`);
      const sessions = (c.body.status as { sessions: { codec: string; frames: number }[] }).sessions;
      return sessions.length === 1 && sessions[0].codec === 'h264';
    }, 'the session in codec status');
    await closeWs(enc.ws);
  });

  it('realtime pipeline, recording and an AI core that is off answer truthfully', async () => {
    const { http } = await startHub();
    const rt = await call(http, `${RT}/status`);
    assert.equal(rt.status, 200);
    assert.equal((rt.body.status as { enabled: boolean }).enabled, false);
    assert.equal((await call(http, `${RT}/config`, { method: 'POST', body: { enabled: true } })).status, 400);
    const cfg = await call(http, `${RT}/config`, { method: 'POST', body: { max_fps: 30 } });
    assert.equal(cfg.status, 200);
    const start = await call(http, `${RT}/record/start`, { method: 'POST', body: { client_id: 'SRC' } });
    assert.equal(start.status, 200);
    assert.equal(start.body.ok, true);
    const stop = await call(http, `${RT}/record/stop`, { method: 'POST', body: { client_id: 'SRC' } });
    assert.deepEqual([stop.status, stop.body.ok, stop.body.path], [200, false, null], 'no frame: nothing written');
    assert.match(String(stop.body.detail), /no frame of SRC arrived/);
    const ai = await call(http, '/api/v1/ai/status');
    assert.deepEqual([ai.status, ai.body.enabled], [200, false]);
    const proc = await call(http, '/api/v1/ai/process', { method: 'POST', body: {} });
    assert.equal(proc.status, 503);
    assert.match(String(proc.body.detail), /AI core is off: start the hub with --ai/);
  });

  it('answers a wrong method with 405 and Allow, and keeps the token check', async () => {
    const { http } = await startHub({ token: 'tok' });
    assert.equal((await call(http, `${VP}/pipeline/status`)).status, 401);
    const wrong = await call(http, `${VP}/pipeline/config`, { token: 'tok' });
    assert.deepEqual([wrong.status, wrong.allow], [405, 'POST']);
    const post = await call(http, '/api/v1/ai/status', { method: 'POST', token: 'tok', body: {} });
    assert.deepEqual([post.status, post.allow], [405, 'GET']);
    assert.equal((await call(http, `${VP}/pipeline/status`, { token: 'tok' })).status, 200);
  });
});
