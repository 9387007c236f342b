import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import WebSocket from 'ws';
import type { TreeRow } from '../../../src/extension/backends/tree-rows';
import { api, until } from './helpers';

/**
 * The real hub CLI (`huaju4k hub --port 0 --token … --model null`: the AI core off until switched on, with the
 * pass-through model) as a child process; resolves with its address.
 */
async function startHubCli(enginePath: string, token: string): Promise<{ proc: ChildProcess; url: string }> {
  const args = [enginePath, 'hub', '--port', '0', '--token', token, '--model', 'null'];
  const env = { ...process.env, HUAJU4K_HUB_RECORD_DIR: recordDir() };
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`hub did not start: ${out}`)), 30_000);
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    proc.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc.once('exit', (code) => reject(new Error(`hub exited with ${code}: ${out}`)));
  });
  return { proc, url };
}

let recordings: string | undefined;
const recordDir = () => {
  recordings ??= mkdtempSync(join(tmpdir(), 'huaju4k-e2e-rec-'));
  return recordings;
};

function tinyJpeg(): Buffer {
  return execFileSync('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=64x36:r=10', '-frames:v', '1'],
    ...['-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '5', '-'],
  ]);
}

const NAME = 'e2e-hub';
const TOKEN = 'e2e-token';

type CommandResult = { ok: boolean; path?: string | null; frames?: number; error?: string };

/** AI core on, a processed recording of one frame, AI core off: each through its command, each seen in the tree. */
async function liveCommands(url: string, row: () => Promise<TreeRow | undefined>): Promise<void> {
  const child = async (label: string) => (await row())?.children?.find((c) => c.label === label);
  const on = (await vscode.commands.executeCommand('huaju4k.aiCoreOn', NAME)) as CommandResult;
  assert.deepEqual(on, { ok: true });
  await until('AI core on in the tree', async () =>
    (await child('AI core'))?.description?.startsWith('null · in ') ? true : undefined,
  );
  const target = { source: 'e2e-cam', kind: 'processed' };
  const started = (await vscode.commands.executeCommand(
    'huaju4k.startBackendRecording',
    NAME,
    target,
  )) as CommandResult;
  assert.equal(started.ok, true, started.error);
  await until('recording in the tree', async () =>
    (await child('Recording'))?.description === 'e2e-cam (processed)' ? true : undefined,
  );
  const publisher = new WebSocket(`${url.replace('http', 'ws')}/video_in?subscribe=0&token=${TOKEN}`);
  await new Promise<void>((resolve, reject) => {
    publisher.once('open', () => resolve());
    publisher.once('error', reject);
  });
  publisher.send(JSON.stringify({ source: 'e2e-cam' }));
  publisher.send(tinyJpeg());
  await until('a processed frame recorded', async () => {
    const rec = (await child('Recording'))?.children?.[0];
    return rec && /^[1-9]\d* frames/.test(rec.description ?? '') ? true : undefined;
  });
  publisher.close();
  const stopped = (await vscode.commands.executeCommand('huaju4k.stopBackendRecording', NAME, target)) as CommandResult;
  assert.equal(stopped.path, started.path);
  assert.ok(stopped.path && existsSync(stopped.path), 'the recording is on disk');
  const off = (await vscode.commands.executeCommand('huaju4k.aiCoreOff', NAME)) as CommandResult;
  assert.deepEqual(off, { ok: true });
  await until('AI core off in the tree', async () =>
    (await child('AI core'))?.description?.startsWith('off · ') ? true : undefined,
  );
}

describe('huaju4k in a real extension host: backends', () => {
  let hub: { proc: ChildProcess; url: string } | undefined;

  after(async () => {
    await vscode.commands.executeCommand('huaju4k.removeBackend', NAME);
    hub?.proc.kill('SIGTERM');
  });

  const row = async (): Promise<TreeRow | undefined> => (await api()).backends.rows().find((r) => r.label === NAME);

  it('Add Backend (with a token) shows the hub reachable in the Backends tree', async () => {
    const a = await api();
    assert.deepEqual(a.backends.rows(), [], 'no backends before the test');
    hub = await startHubCli(a.enginePath, TOKEN);
    await vscode.commands.executeCommand('huaju4k.addBackend', { name: NAME, url: hub.url, token: TOKEN });
    const reachable = await until('backend reachable in the tree', async () => {
      const r = await row();
      return r?.icon === 'pass' ? r : undefined;
    });
    assert.match(reachable.description ?? '', /^\d+ subs · \d+\.\d fps$/);
    assert.deepEqual(
      reachable.children?.map((c) => c.label),
      ['Subscribers', 'Frames', 'Relay', 'AI core', 'Recording', 'Resources'],
    );
    const cfg = vscode.workspace.getConfiguration('huaju4k').inspect('backends');
    assert.deepEqual(cfg?.globalValue, [{ name: NAME, url: hub.url }], 'written to user settings, token not in it');
    const outcome = (await vscode.commands.executeCommand('huaju4k.testBackend', NAME)) as { state: string };
    assert.equal(outcome.state, 'reachable');
  });

  it('the preview relays the broadcast; its socket shows as a subscriber', async () => {
    const a = await api();
    assert.ok(hub);
    await vscode.commands.executeCommand('huaju4k.showBackendPreview', NAME);
    const jpeg = tinyJpeg();
    const publisher = new WebSocket(`${hub.url.replace('http', 'ws')}/video_in?subscribe=0&token=${TOKEN}`);
    await new Promise<void>((resolve, reject) => {
      publisher.once('open', () => resolve());
      publisher.once('error', reject);
    });
    const timer = setInterval(() => publisher.send(jpeg), 100);
    try {
      await until(
        'frames relayed to the preview',
        () => (a.backends.previewFrames(NAME) > 0 ? true : undefined),
        30_000,
      );
      const r = await until('subscriber and fps in the tree', async () => {
        const x = await row();
        return x && /^1 subs · [1-9]/.test(x.description ?? '') ? x : undefined;
      });
      const subs = r.children?.find((c) => c.label === 'Subscribers');
      assert.match(subs?.children?.[0]?.label ?? '', /^\/video_out /);
    } finally {
      clearInterval(timer);
      publisher.close();
    }
  });

  it('AI core on/off and Start/Stop Recording from the Backends view show in its rows', async () => {
    assert.ok(hub);
    await liveCommands(hub.url, row);
  });

  it('a wrong token shows unauthorized; Remove Backend empties the tree and closes its preview', async () => {
    const previewTab = () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === `Preview: ${NAME}`);
    assert.ok(previewTab(), 'the preview opened by the previous test is open');
    await vscode.commands.executeCommand('huaju4k.setBackendToken', NAME, 'wrong');
    await until('unauthorized in the tree', async () => ((await row())?.icon === 'lock' ? true : undefined), 30_000);
    const refused = (await vscode.commands.executeCommand('huaju4k.aiCoreOn', NAME)) as { ok: boolean; error?: string };
    assert.equal(refused.ok, false);
    assert.match(refused.error ?? '', /wants a token \(HTTP 401\)\. Set Backend Token/);
    assert.equal(await vscode.commands.executeCommand('huaju4k.removeBackend', NAME), true);
    await until('tree empty', async () => ((await api()).backends.rows().length === 0 ? true : undefined), 10_000);
    await until('preview closed', () => (previewTab() ? undefined : true), 10_000);
  });
});
