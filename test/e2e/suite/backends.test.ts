import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as vscode from 'vscode';
import WebSocket from 'ws';
import type { TreeRow } from '../../../src/extension/backends/tree-rows';
import { api, until } from './helpers';

/** The real hub CLI (`huaju4k hub --port 0 --token …`) as a child process; resolves with its address. */
async function startHubCli(enginePath: string, token: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [enginePath, 'hub', '--port', '0', '--token', token], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

function tinyJpeg(): Buffer {
  return execFileSync('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=64x36:r=10', '-frames:v', '1'],
    ...['-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '5', '-'],
  ]);
}

describe('huaju4k in a real extension host: backends', () => {
  const NAME = 'e2e-hub';
  const TOKEN = 'e2e-token';
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
      ['Subscribers', 'Frames', 'Relay', 'Resources'],
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

  it('a wrong token shows unauthorized; Remove Backend empties the tree and closes its preview', async () => {
    const previewTab = () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === `Preview: ${NAME}`);
    assert.ok(previewTab(), 'the preview opened by the previous test is open');
    await vscode.commands.executeCommand('huaju4k.setBackendToken', NAME, 'wrong');
    await until('unauthorized in the tree', async () => ((await row())?.icon === 'lock' ? true : undefined), 30_000);
    assert.equal(await vscode.commands.executeCommand('huaju4k.removeBackend', NAME), true);
    await until('tree empty', async () => ((await api()).backends.rows().length === 0 ? true : undefined), 10_000);
    await until('preview closed', () => (previewTab() ? undefined : true), 10_000);
  });
});
