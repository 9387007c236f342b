import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as vscode from 'vscode';
import type { JobSnapshot } from '../../../src/extension/jobs/job-state';
import { e2eConfig } from './config';
import { api, groupAlive, probeFrames, treeState, until } from './helpers';

describe('huaju4k in a real extension host: kill and resume', () => {
  const cfg = e2eConfig();
  const output = cfg.longClip.replace(/\.mp4$/, '.4k.mp4');
  let killedAt = 0;
  let total = 0;

  before(async () => {
    rmSync(output, { force: true });
    await vscode.workspace.getConfiguration('huaju4k').update('maxFrames', 0, vscode.ConfigurationTarget.Workspace);
  });
  after(async () => {
    await vscode.workspace
      .getConfiguration('huaju4k')
      .update('maxFrames', undefined, vscode.ConfigurationTarget.Workspace);
  });

  it('kill -9 of the engine mid-run leaves an interrupted job, shown as "interrupted n%" and offered by Resume', async () => {
    const a = await api();
    const [job] = (await vscode.commands.executeCommand(
      'huaju4k.enhance',
      vscode.Uri.file(cfg.longClip),
    )) as JobSnapshot[];
    const pid = await until('engine pid and progress', () => {
      const j = a.jobs.get(job.id);
      return j?.pid && j.frame >= 60 ? j.pid : undefined;
    });
    process.kill(pid, 'SIGKILL');
    const end = await a.jobs.whenFinished(job.id);
    killedAt = end.frame;
    total = end.total;
    assert.equal(end.phase, 'interrupted');
    assert.equal(end.failure?.signal, 'SIGKILL');
    await until('engine children reaped', () => (groupAlive(pid) ? undefined : true), 10_000);
    const state = await until('tree shows interrupted', async () => {
      const s = await treeState(a, cfg.longClip);
      return s.startsWith('interrupted') ? s : undefined;
    });
    // The percentage is where the engine was killed, or (once the engine's checkpoint listing is read) the
    // frames its verified segments hold: never more than the kill point, and more than nothing here.
    const pct = Number(/(\d+)%/.exec(state)?.[1]);
    assert.ok(pct > 0 && pct <= Math.floor((killedAt / total) * 100), `${state} vs killed at ${killedAt}/${total}`);
    assert.ok(a.journal.interrupted().some((r) => r.output === output));
    const msg = await until('resume offered', () =>
      a.messages.find(
        (m) => m.text.includes('longclip.mp4') && m.text.includes('interrupted') && m.actions.includes('Resume'),
      ),
    );
    assert.match(msg.text, /interrupted at \d+%/);
  });

  it('"Resume Interrupted Enhancement" continues the job to a complete output', async function () {
    if (!cfg.engineSupportsResume) {
      // Pending, not passing: the engine's checkpoint/resume (issue 4) is not in dist/engine.js yet.
      this.skip();
    }
    const a = await api();
    assert.ok(killedAt > 0, 'needs the kill test first');
    const job = (await vscode.commands.executeCommand('huaju4k.resume', vscode.Uri.file(output))) as JobSnapshot;
    assert.ok(job, 'resume started a job');
    const end = await a.jobs.whenFinished(job.id);
    assert.equal(end.phase, 'done', JSON.stringify(end.failure));
    assert.ok((end.resumeFromFrame ?? 0) > 0, 'the engine resumed rather than restarting');
    assert.equal(probeFrames(cfg.ffprobe, output).frames, total);
    assert.equal(
      await until('tree done', async () => ((await treeState(a, cfg.longClip)) === 'done' ? 'done' : undefined)),
      'done',
    );
  });
});
