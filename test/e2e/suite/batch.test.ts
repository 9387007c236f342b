import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { JobSnapshot } from '../../../src/extension/jobs/job-state';
import { e2eConfig } from './config';
import { api, treeFacts, until } from './helpers';

const outputOf = (clip: string) => clip.replace(/\.mp4$/, '.4k.mp4');

describe('huaju4k in a real extension host: batches, the queue and the history', () => {
  const cfg = e2eConfig();
  const [a, b, c] = cfg.batchClips;

  before(() => {
    for (const clip of cfg.batchClips) rmSync(outputOf(clip), { force: true });
  });
  afterEach(async () => vscode.commands.executeCommand('huaju4k.resumeQueue'));

  it('a folder batch queues every video not enhanced yet; the queue reorders, removes, pauses and resumes', async () => {
    const x = await api();
    await vscode.commands.executeCommand('huaju4k.pauseQueue');
    const queued = (await vscode.commands.executeCommand(
      'huaju4k.enhanceFolder',
      vscode.Uri.file(cfg.batchDir),
    )) as JobSnapshot[];
    // done.mp4 is skipped (its output exists), done.4k.mp4 is an output: neither is queued.
    assert.deepEqual(
      queued.map((j) => path.basename(j.input)),
      ['a.mp4', 'b.mp4', 'c.mp4'],
    );
    assert.deepEqual(
      queued.map((j) => x.jobs.get(j.id)?.phase),
      ['queued', 'queued', 'queued'],
      'nothing starts while the queue is paused',
    );
    const [ja, jb, jc] = queued;
    await vscode.commands.executeCommand('huaju4k.moveToTop', jc.id);
    assert.deepEqual(x.jobs.queuedIds(), [jc.id, ja.id, jb.id]);
    assert.equal(await vscode.commands.executeCommand('huaju4k.removeFromQueue', jb.id), 1);
    assert.equal(x.jobs.get(jb.id), undefined, 'a job removed before it ran is forgotten');
    const rows = await until('queue rows', () => {
      const q = x.jobRows().queue;
      return q.length === 2 ? q : undefined;
    });
    assert.match(rows[0], /^c\.mp4 · #1 in line \(paused\)/);
    assert.match(rows[1], /^a\.mp4 · #2 in line \(paused\)/);

    const order: string[] = [];
    const sub = x.jobs.onDidChangeJob((j) => {
      if (j.phase === 'running' && !order.includes(j.input)) order.push(j.input);
    });
    await vscode.commands.executeCommand('huaju4k.resumeQueue');
    const ends = await Promise.all([x.jobs.whenFinished(jc.id), x.jobs.whenFinished(ja.id)]);
    sub.dispose();
    assert.deepEqual(
      ends.map((e) => e.phase),
      ['done', 'done'],
      JSON.stringify(ends.map((e) => e.failure)),
    );
    assert.deepEqual(order, [c, a], 'c was moved to the front');
    assert.ok(existsSync(outputOf(a)) && existsSync(outputOf(c)) && !existsSync(outputOf(b)));
    // One message for the batch, not one per job (b was taken out of it).
    const end = await until('batch message', () => x.messages.find((m) => m.text.includes('videos finished')));
    assert.equal(end.text, 'huaju4k: 2 videos finished: 2 enhanced');
    assert.ok(!x.messages.some((m) => /enhanced [abc]\.mp4/.test(m.text)), 'no message per job of a batch');
    // The history lists them newest first; the removed job is there too (cancelled), to be retried from there.
    const hist = x.history.all().map((e) => `${path.basename(e.input)}:${e.phase}`);
    assert.deepEqual(hist.slice(0, 2), ['a.mp4:done', 'c.mp4:done']);
    assert.ok(hist.includes('b.mp4:cancelled'), hist.join(' '));
    assert.equal(x.history.get(jb.id)?.message, 'Removed from the queue before it started.');
    assert.equal((await treeFacts(x, b))?.record, undefined, 'nothing to resume for b');
    assert.match(x.jobRows().history[0], /^a\.mp4 · done in \d+:\d\d · batch$/);
  });

  it('a second folder batch skips what is enhanced now and says so when nothing is left', async () => {
    const x = await api();
    await vscode.commands.executeCommand('huaju4k.pauseQueue');
    const queued = (await vscode.commands.executeCommand(
      'huaju4k.enhanceFolder',
      vscode.Uri.file(cfg.batchDir),
    )) as JobSnapshot[];
    assert.deepEqual(
      queued.map((j) => path.basename(j.input)),
      ['b.mp4'],
    );
    await vscode.commands.executeCommand('huaju4k.removeFromQueue', queued[0].id);
    rmSync(cfg.batchClips[1]);
    const none = (await vscode.commands.executeCommand(
      'huaju4k.enhanceFolder',
      vscode.Uri.file(cfg.batchDir),
    )) as JobSnapshot[];
    assert.deepEqual(none, []);
    assert.ok(x.messages.some((m) => m.text === 'huaju4k: batch: nothing to enhance; skipped 3 already enhanced.'));
  });

  it('Retry runs a failed job of the history again, with the same output', async () => {
    const x = await api();
    const [first] = (await vscode.commands.executeCommand(
      'huaju4k.enhance',
      vscode.Uri.file(cfg.notVideo),
    )) as JobSnapshot[];
    assert.equal((await x.jobs.whenFinished(first.id)).phase, 'failed');
    await until('in history', () => x.history.get(first.id));
    const [again] = (await vscode.commands.executeCommand('huaju4k.retry', [first.id])) as JobSnapshot[];
    assert.notEqual(again.id, first.id);
    assert.equal(again.input, cfg.notVideo);
    assert.equal(again.output, first.output);
    assert.equal((await x.jobs.whenFinished(again.id)).phase, 'failed');
    assert.deepEqual(
      x.history
        .all()
        .slice(0, 2)
        .map((e) => e.id),
      [again.id, first.id],
    );
  });
});
