import assert from 'node:assert/strict';
import { existsSync, rmSync, statSync } from 'node:fs';
import * as vscode from 'vscode';
import type { JobSnapshot } from '../../../src/extension/jobs/job-state';
import { workDirFor } from '../../../src/protocol/output-name';
import { e2eConfig } from './config';
import { api, groupAlive, probeFrames, treeState, until } from './helpers';

describe('huaju4k in a real extension host: enhance', () => {
  const cfg = e2eConfig();
  const output = cfg.clip.replace(/\.mp4$/, '.4k.mp4');

  before(() => rmSync(output, { force: true }));

  it('lists the workspace videos in the Videos tree, not enhanced, with ffprobe metadata', async () => {
    const a = await api();
    assert.equal(
      await until('clip in tree', async () => ((await treeState(a, cfg.clip)) !== 'absent' ? true : undefined)),
      true,
    );
    assert.equal(await treeState(a, cfg.clip), 'not-enhanced');
    const meta = await until('ffprobe metadata', async () => {
      const f = (await a.videos()).find((v) => v.path === cfg.clip);
      return f?.meta && !('error' in f.meta) ? f.meta : undefined;
    });
    assert.equal(meta.width, 64);
    assert.equal(meta.height, 36);
    assert.ok(meta.fps > 23 && meta.fps < 25, `fps ${meta.fps}`);
  });

  it('"Enhance to 4K" on a clip writes the output and the tree says done', async () => {
    const a = await api();
    const started = (await vscode.commands.executeCommand(
      'huaju4k.enhance',
      vscode.Uri.file(cfg.clip),
    )) as JobSnapshot[];
    assert.equal(started.length, 1);
    const seen = new Set<string>();
    let pid = started[0].pid;
    const sub = a.jobs.onDidChangeJob((j) => {
      if (j.id !== started[0].id) return;
      seen.add(j.phase);
      pid = j.pid ?? pid;
    });
    const end = await a.jobs.whenFinished(started[0].id);
    sub.dispose();
    assert.equal(end.phase, 'done', JSON.stringify(end.failure));
    assert.ok(seen.has('running'));
    assert.ok(existsSync(output), `${output} exists`);
    const info = probeFrames(cfg.ffprobe, output);
    assert.deepEqual(info, { width: 256, height: 144, frames: cfg.maxFrames });
    assert.equal(
      await until('tree says done', async () => ((await treeState(a, cfg.clip)) === 'done' ? 'done' : undefined)),
      'done',
    );
    assert.ok(a.messages.some((m) => m.severity === 'info' && m.text.includes('enhanced clip.mp4')));
    // The finished run taught the As… estimate this machine's time per frame (a 64×36 model input).
    const rateNow = () =>
      (['int8', 'fp32'] as const)
        .map((precision) =>
          a.frameRates.secondsPerFrame({
            model: 'realesr-animevideov3-x4',
            executionProvider: 'cpu',
            precision,
            modelPixels: 64 * 36,
          }),
        )
        .find((s) => s !== undefined);
    const rate = await until('a rate for the model on the CPU', async () => rateNow(), 10_000);
    assert.ok(rate !== undefined && rate > 0, `a rate for the model on the CPU: ${rate}`);
    // The engine and its ffmpeg children are gone: its process group (the engine leads it) has no member left.
    assert.ok(pid, 'the engine was seen running');
    const engine = pid;
    await until('process group gone', () => (groupAlive(engine) ? undefined : true), 10_000);
  });

  it('Enhance on a done video asks before replacing it, and leaves the output alone', async () => {
    const a = await api();
    const before = statSync(output).mtimeMs;
    const running = () =>
      a.jobs.jobs().filter((j) => j.input === cfg.clip && (j.phase === 'running' || j.phase === 'queued'));
    // Not awaited: the command waits for the user's answer to the question.
    void vscode.commands.executeCommand('huaju4k.enhance', vscode.Uri.file(cfg.clip));
    const question = await until('replace question', () =>
      a.messages.find((m) => m.severity === 'warning' && m.text.includes('clip.4k.mp4 already exists')),
    );
    assert.deepEqual(question.actions, ['Replace', 'Open Existing']);
    assert.deepEqual(running(), [], 'no job started before the answer');
    assert.equal(statSync(output).mtimeMs, before, 'the output is untouched');
  });

  it('Reveal Enhanced Video works where the OS file manager is out of reach (VS Code for the Web)', async () => {
    // code-server is VS Code for the Web: revealFileInOS does not exist there ("command not found" before).
    assert.equal(vscode.env.uiKind, vscode.UIKind.Web);
    await vscode.commands.executeCommand('huaju4k.revealOutput', vscode.Uri.file(cfg.clip));
  });

  it("the engine's work folders are hidden from the Explorer and file watchers", () => {
    const files = vscode.workspace.getConfiguration('files');
    assert.equal(files.get<Record<string, boolean>>('exclude')?.['**/*.huaju4k'], true);
    assert.equal(files.get<Record<string, boolean>>('watcherExclude')?.['**/*.huaju4k/**'], true);
  });

  it('a file that is not a video fails with the engine reason in the message and the tree', async () => {
    const a = await api();
    const started = (await vscode.commands.executeCommand(
      'huaju4k.enhance',
      vscode.Uri.file(cfg.notVideo),
    )) as JobSnapshot[];
    const end = await a.jobs.whenFinished(started[0].id);
    assert.equal(end.phase, 'failed');
    assert.equal(end.failure?.exitCode, 2, JSON.stringify(end.failure));
    const msg = await until('error message', () =>
      a.messages.find((m) => m.severity === 'error' && m.text.includes('notvideo.mp4')),
    );
    assert.match(msg.text, /cannot enhance notvideo\.mp4/);
    assert.equal(
      await until('tree failed', async () => ((await treeState(a, cfg.notVideo)) === 'failed' ? 'failed' : undefined)),
      'failed',
    );
  });

  it('Cancel stops the engine and every child process', async () => {
    const a = await api();
    const config = vscode.workspace.getConfiguration('huaju4k');
    await config.update('maxFrames', 0, vscode.ConfigurationTarget.Workspace);
    try {
      const out = cfg.longClip.replace(/\.mp4$/, '.4k.mp4');
      rmSync(out, { force: true });
      const [job] = (await vscode.commands.executeCommand(
        'huaju4k.enhance',
        vscode.Uri.file(cfg.longClip),
      )) as JobSnapshot[];
      await until('progress', () => ((a.jobs.get(job.id)?.frame ?? 0) >= 3 ? true : undefined));
      const pid = a.jobs.get(job.id)?.pid;
      assert.ok(pid && groupAlive(pid));
      assert.equal(await vscode.commands.executeCommand('huaju4k.cancel', vscode.Uri.file(cfg.longClip)), true);
      const end = await a.jobs.whenFinished(job.id);
      assert.equal(end.phase, 'cancelled');
      await until('process group gone', () => (groupAlive(pid) ? undefined : true), 10_000);
      assert.ok(!existsSync(out) || end.frame === end.total, 'no output presented as complete after cancel');
    } finally {
      await config.update('maxFrames', undefined, vscode.ConfigurationTarget.Workspace);
      // A cancel keeps the frames it encoded (a checkpoint in the work folder): the next test enhances this clip anew.
      rmSync(workDirFor(cfg.longClip.replace(/\.mp4$/, '.4k.mp4')), { recursive: true, force: true });
    }
  });
});
