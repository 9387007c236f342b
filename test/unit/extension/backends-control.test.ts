/**
 * The Backends view's live commands' requests against real `huaju4k hub` processes: start/stop a recording (the
 * returned path is the finished file), AI core on/off at run time, and the refusals a user sees (no token: 401 with
 * "Set Backend Token"; a second start; a backend that is not there).
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import WebSocket from 'ws';
import {
  BackendRefusal,
  recordableSources,
  setAiCore,
  startRecording,
  stopRecording,
} from '../../../src/extension/backends/backend-control';
import { parseHubStatus } from '../../../src/protocol/hub-status';
import { eventually, tempDir, tinyJpeg } from '../hub/helpers';
import { type HubProcess, startHubProcess, stopHubProcesses } from '../hub/hub-process';

async function openIn(hub: HubProcess, token?: string): Promise<WebSocket> {
  const ws = new WebSocket(hub.ws(`/video_in?subscribe=0${token ? `&token=${token}` : ''}`));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

const refused = (re: RegExp, status?: number) => (err: unknown) => {
  assert.ok(err instanceof BackendRefusal, String(err));
  assert.match(err.message, re);
  assert.equal(err.status, status);
  return true;
};

describe('backends: live commands against a real hub', function () {
  this.timeout(90_000);
  afterEach(() => stopHubProcesses());

  it('records a /video_in source it lists and returns the finished file; a second start is refused', async () => {
    const hub = await startHubProcess([], { record_dir: tempDir() });
    const t = { name: 'h', url: hub.http, token: undefined };
    const ws = await openIn(hub);
    const status = parseHubStatus(await hub.status());
    assert.ok(status);
    const sources = recordableSources(status);
    assert.equal(sources.length, 1);
    assert.match(sources[0], /^video_in:/);
    const started = await startRecording(t, sources[0], 'raw');
    assert.ok(started.path);
    await assert.rejects(startRecording(t, sources[0], 'raw'), refused(/already recording \(HTTP 409\)/, 409));
    for (let i = 0; i < 5; i++) ws.send(tinyJpeg(i));
    await eventually(async () => (await hub.status()).recordings[0]?.frames === 5, 'five frames recorded', 20_000);
    const stopped = await stopRecording(t, sources[0], 'raw');
    assert.deepEqual([stopped.path, stopped.frames], [started.path, 5]);
    assert.ok(existsSync(started.path) && statSync(started.path).size > 0, 'the file is there');
    const again = await stopRecording(t, sources[0], 'raw');
    assert.equal(again.path, null, 'nothing records it any more');
    ws.close();
  });

  it('turns the AI core on and off at run time (null model) and reports its status', async () => {
    const hub = await startHubProcess(['--model', 'null']);
    const t = { name: 'h', url: hub.http, token: undefined };
    assert.equal((await hub.status()).ai.enabled, false);
    const on = await setAiCore(t, true);
    assert.equal(on?.enabled, true);
    assert.equal(on?.enabled && on.model, 'null');
    assert.equal((await hub.status()).ai.enabled, true);
    const off = await setAiCore(t, false);
    assert.equal(off?.enabled, false);
    await assert.rejects(startRecording(t, 'cam', 'processed'), refused(/the AI core is off/, 409));
  });

  it('refusals say what to do: no token (401), a backend that does not answer', async () => {
    const hub = await startHubProcess(['--token', 'secret']);
    const t = { name: 'h', url: hub.http, token: undefined };
    await assert.rejects(setAiCore(t, true), refused(/wants a token \(HTTP 401\)\. Set Backend Token/, 401));
    await assert.rejects(startRecording(t, 'cam', 'raw'), refused(/refused to start recording cam \(raw\)/, 401));
    await assert.rejects(stopRecording({ ...t, token: 'wrong' }, 'cam', 'raw'), refused(/HTTP 401/, 401));
    const stoppedOk = await stopRecording({ ...t, token: 'secret' }, 'cam', 'raw');
    assert.equal(stoppedOk.path, null);
    await hub.stop();
    await assert.rejects(setAiCore(t, true), refused(/did not answer: ECONNREFUSED\. Check that it runs/));
  });

  it('a backend without these endpoints (an older hub, a plain web server): "update huaju4k"', async () => {
    const hub = await startHubProcess([]);
    // Under a path prefix nothing is an endpoint: the hub refuses the POST (405) as a hub without ai/config does.
    const t = { name: 'h', url: `${hub.http}/nothing-here`, token: undefined };
    await assert.rejects(
      setAiCore(t, true),
      refused(/has no \/api\/v1\/ai\/config \(HTTP 405.*update huaju4k there/, 405),
    );
  });
});
