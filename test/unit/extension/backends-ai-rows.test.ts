/**
 * The Backends tree's AI core and Recording rows, and the validation of what a hub sends for them, against real
 * `huaju4k hub` processes (`--ai --model null`, and without `--ai`); an older hub's status (without `ai` and
 * `recordings`) and malformed parts are the real body with those fields removed or broken.
 */
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { AI_ROW_CONTEXT, RECORDING_ROW_CONTEXT } from '../../../src/extension/backends/ai-rows';
import { monitorRowFromView, presentRow } from '../../../src/extension/backends/backend-rows';
import { backendTreeRow, type TreeRow } from '../../../src/extension/backends/tree-rows';
import { type BackendView, probeBackend } from '../../../src/hub/client';
import { parseAiStatus, parseHubStatus, parseRecordings } from '../../../src/protocol/hub-status';
import { eventually, tempDir, tinyJpeg } from '../hub/helpers';
import { type HubProcess, startHubProcess, stopHubProcesses } from '../hub/hub-process';

async function viewOf(url: string): Promise<BackendView> {
  const r = await probeBackend(url, { timeoutMs: 5000 });
  return { name: 'h', url, failures: 0, ...r };
}

const child = (row: TreeRow, label: string): TreeRow => {
  const c = row.children?.find((x) => x.label === label);
  assert.ok(c, `no "${label}" row under ${row.label}: ${row.children?.map((x) => x.label).join(', ')}`);
  return c;
};

async function publish(hub: HubProcess, frames: number): Promise<void> {
  const ws = new WebSocket(hub.ws('/video_in?subscribe=0'));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  for (let i = 0; i < frames; i++) ws.send(tinyJpeg(i));
  await eventually(async () => (await hub.status()).ai.enabled && (await aiOut(hub)) >= 1, 'AI core output', 20_000);
  ws.close();
}

async function aiOut(hub: HubProcess): Promise<number> {
  const ai = (await hub.status()).ai;
  return ai.enabled ? ai.out.frames : 0;
}

describe('backends: AI core and recording rows from a real hub', function () {
  this.timeout(60_000);
  afterEach(() => stopHubProcesses());

  it('a hub with --ai --model null: the AI core row shows model, fps, latency, drops and its device', async () => {
    const hub = await startHubProcess(['--ai', '--model', 'null']);
    await publish(hub, 5);
    const top = backendTreeRow(await viewOf(hub.http));
    assert.deepEqual(
      top.children?.map((c) => c.label),
      ['Subscribers', 'Frames', 'Relay', 'AI core', 'Recording', 'Resources'],
    );
    assert.match(top.description ?? '', / · AI \d+\.\d fps$/);
    const ai = child(top, 'AI core');
    assert.match(ai.description ?? '', /^null · in \d+\.\d · out \d+\.\d fps · p50 (\d+ ms|—)( · \d+ dropped)?$/);
    assert.match(ai.tooltip ?? '', /in \d+ frames .* out [1-9]\d* \(/);
    assert.match(ai.tooltip ?? '', /latency p50 \d+ ms, p99 \d+ ms/);
    assert.equal(ai.context, AI_ROW_CONTEXT.on);
    assert.equal(presentRow(ai, undefined).contextValue, AI_ROW_CONTEXT.on);
    assert.deepEqual(
      ai.children?.map((d) => d.label),
      ['Device cpu'],
    );
    assert.match(ai.children?.[0]?.description ?? '', /^\S+ · (busy|idle) · [1-9]\d* frames$/);
    const rec = child(top, 'Recording');
    assert.deepEqual([rec.description, rec.context], ['off', RECORDING_ROW_CONTEXT.idle]);
    const monitor = monitorRowFromView(await viewOf(hub.http));
    assert.match(monitor.ai ?? '', /^in \d+\.\d · out \d+\.\d fps · (\d+|—)\/(\d+|—) ms · \d+ dropped · cpu$/);
    assert.equal(monitor.recording, 'off');
  });

  it('a hub without --ai: the AI core row says off and why; a recording shows under Recording', async () => {
    const hub = await startHubProcess([], { record_dir: tempDir() });
    const res = await fetch(`${hub.http}/api/v1/realtime_pipeline/record/start`, {
      method: 'POST',
      body: JSON.stringify({ source: 'cam1' }),
    });
    assert.equal(res.status, 200, await res.text());
    const top = backendTreeRow(await viewOf(hub.http));
    const ai = child(top, 'AI core');
    assert.match(ai.description ?? '', /^off · /);
    assert.match(ai.tooltip ?? '', /start the hub with --ai/);
    assert.equal(ai.context, AI_ROW_CONTEXT.off);
    const rec = child(top, 'Recording');
    assert.deepEqual([rec.description, rec.context], ['cam1 (raw)', RECORDING_ROW_CONTEXT.active]);
    assert.match(rec.children?.[0]?.tooltip ?? '', /cam1/);
    assert.match(top.description ?? '', / · recording$/);
    assert.equal(monitorRowFromView(await viewOf(hub.http)).recording, 'cam1');
  });
});

describe('backends: what an older hub or a malformed AI part shows', function () {
  this.timeout(60_000);
  afterEach(() => stopHubProcesses());

  it('an older hub (no ai, no recordings) or malformed parts: "not available", the rest of the rows intact', async () => {
    const hub = await startHubProcess(['--ai', '--model', 'null']);
    const body = (await (await fetch(`${hub.http}/api/v1/stream/status`)).json()) as Record<string, unknown>;
    const aiBody = (await (await fetch(`${hub.http}/api/v1/ai/status`)).json()) as Record<string, unknown>;
    assert.ok(parseAiStatus(aiBody), 'GET /api/v1/ai/status passes the same validation');
    assert.ok(parseRecordings(body.recordings));
    const { ai: _a, recordings: _r, ...older } = body;
    const broken = [
      older,
      { ...body, ai: { ...aiBody, devices: 'cpu' }, recordings: [{ source: 1 }] },
      { ...body, ai: { ...aiBody, in: {} }, recordings: {} },
      { ...body, ai: { ...aiBody, latencyMs: { p50: '3' } }, recordings: null },
      { ...body, ai: { ...aiBody, enabled: 'yes' } },
    ];
    for (const b of broken) {
      const status = parseHubStatus(b);
      assert.ok(status, 'the rest of the status is still accepted');
      assert.equal(status.ai === null || status.recordings === null, true);
      const top = backendTreeRow({
        name: 'old',
        url: hub.http,
        state: 'reachable',
        failures: 0,
        snapshot: { kind: 'huaju4k-hub', status },
      });
      assert.equal(child(top, 'Subscribers').state, 'ok');
      if (status.ai === null) assert.equal(child(top, 'AI core').description, 'not available');
      if (status.recordings === null) assert.equal(child(top, 'Recording').description, 'not available');
    }
    const old = parseHubStatus(older);
    assert.deepEqual([old?.ai, old?.recordings], [null, null]);
    const view: BackendView = { name: 'old', url: hub.http, state: 'reachable', failures: 0 };
    const monitor = monitorRowFromView({ ...view, snapshot: { kind: 'huaju4k-hub', status: old! } });
    assert.deepEqual([monitor.ai, monitor.recording], ['not available', 'not available']);
  });
});
