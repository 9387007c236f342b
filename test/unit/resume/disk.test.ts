import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type JobManifest, readManifest, writeManifest } from '../../../src/engine/checkpoint/manifest';
import type { ErrorEvent } from '../../../src/protocol/engine-events';
import { basicClip, collect, FAST_MODEL, freshDir, runCli, startCli } from '../engine/helpers';
import { deterministicArgs, firstDifference, packets, partialFiles, videoStreamHash, workFolder } from './helpers';

const FRAMES = 60;
const SEGMENT = 4;
const ENV = { HUAJU4K_PROGRESS_EVERY_MS: '0' };

function tryMount(dir: string, size: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return (err as { stderr?: Buffer }).stderr?.toString().trim() || String(err);
  }
}

function remount(dir: string, size: string): void {
  execFileSync('mount', ['-o', `remount,size=${size}`, dir]);
}

/** Fills the filesystem of `dir` until ENOSPC (a real full disk, not a simulated one). */
function fill(dir: string): string {
  const filler = join(dir, 'filler.bin');
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'pipe' });
  } catch {
    // dd exits 1 on ENOSPC: that is the point
  }
  return filler;
}

describe('disk guard on a real tiny filesystem (tmpfs)', function () {
  this.timeout(600000);
  let root: string;
  let mnt: string;
  let input: string;
  let refHash: string;
  let mounted = false;
  const args = (out: string, extra: string[] = []) => deterministicArgs(input, out, SEGMENT, extra);

  before(async function () {
    root = freshDir('huaju4k-disk-');
    mnt = join(root, 'mnt');
    mkdirSync(mnt);
    const why = tryMount(mnt, '64k');
    if (why) {
      process.stdout.write(
        `      SKIP: cannot mount a tmpfs here (${why}); the disk tests need root or CAP_SYS_ADMIN\n`,
      );
      this.skip();
    }
    mounted = true;
    input = join(root, 'in.mp4');
    copyFileSync(basicClip(FRAMES), input);
    const ref = join(root, 'ref.mp4');
    const r = await runCli(args(ref), ENV);
    assert.equal(r.code, 0, r.stderr);
    refHash = videoStreamHash(ref);
  });

  after(() => {
    if (mounted) execFileSync('umount', [mnt]);
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses before starting when the estimate does not fit, naming the knobs', async () => {
    const out = join(mnt, 'big.mp4');
    // 4K output: ~80 KB a frame estimated, far over 64 KB of tmpfs.
    const r = await runCli(['enhance', input, '-o', out, '--model', FAST_MODEL, '--disk-reserve', '0', '--json']);
    assert.equal(r.code, 4, r.stderr);
    const err = r.events.find((e): e is ErrorEvent => e.type === 'error');
    assert.equal(err?.reason, 'disk-space');
    assert.match(err?.message ?? '', /needs about .* free/);
    assert.match(err?.hint ?? '', /--crf.*--disk-budget.*--disk-reserve/);
    assert.ok(!r.events.some((e) => e.type === 'start'), 'refused before start');
    assert.ok(!existsSync(out) && !existsSync(workFolder(out)), 'nothing left behind');
    // Same for the budget (a multiple of the input size).
    const b = await runCli([...args(join(root, 'budget.mp4')), '--disk-budget', '1x']);
    assert.equal(b.code, 4);
    const be = b.events.find((e): e is ErrorEvent => e.type === 'error');
    assert.equal(be?.reason, 'disk-budget');
    assert.match(be?.message ?? '', /the budget is/);
  });

  it('stops cleanly with exit 4 before the tmpfs fills, then resumes to a byte-identical video', async () => {
    const out = join(mnt, 'out.mp4');
    const r = await runCli(args(out, ['--disk-reserve', '0']), ENV);
    assert.equal(r.code, 4, r.stderr);
    const err = r.events.find((e): e is ErrorEvent => e.type === 'error');
    assert.equal(err?.reason, 'disk-reserve', err?.message);
    assert.match(err?.hint ?? '', /resume/);
    assert.ok(!/No space left/i.test(r.stderr), 'stopped before ENOSPC');
    const m = readManifest(workFolder(out));
    assert.ok(m && m.segments.length > 0 && m.segments.length * SEGMENT < FRAMES, 'part of the job is saved');
    assert.deepEqual(partialFiles(workFolder(out)), [], 'the open segment was dropped');
    assert.ok(!existsSync(out));
    const samples = r.events.filter((e) => e.type === 'sample');
    assert.ok(
      samples.some((s) => s.type === 'sample' && (s.jobDiskBytes ?? 0) > 0),
      'sample.jobDiskBytes reported',
    );
    remount(mnt, '1m');
    try {
      const res = await runCli(['resume', out, '--json'], ENV);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(videoStreamHash(out), refHash);
      assert.equal(await packets(out), FRAMES);
    } finally {
      rmSync(out, { force: true });
      remount(mnt, '64k');
    }
  });

  it('disk budget: stops at the budget with exit 4 (disk-budget), resumable with a larger one', async () => {
    const out = join(root, 'budgeted.mp4');
    const r = await runCli(args(out, ['--disk-budget', '60K']), ENV);
    assert.equal(r.code, 4, r.stderr);
    const err = r.events.find((e): e is ErrorEvent => e.type === 'error');
    assert.equal(err?.reason, 'disk-budget');
    const peak = Math.max(...r.events.map((e) => (e.type === 'sample' ? (e.jobDiskBytes ?? 0) : 0)), 0);
    assert.ok(peak <= 60 * 1024, `job held ${peak} bytes, budget 60K`);
    const m = readManifest(workFolder(out)) as JobManifest;
    assert.ok(m.segments.length > 0);
    // The budget is not a pixel setting: resuming with another one is allowed.
    const res = await runCli([...args(out, ['--disk-budget', '10M']), '--resume'], ENV);
    assert.equal(res.code, 0, JSON.stringify(res.events.find((e) => e.type === 'error')));
    assert.equal(videoStreamHash(out), refHash);
  });

  it('disk really full mid-run (ENOSPC): exit 4, checkpoint intact, resumes after space is freed', async () => {
    remount(mnt, '256k');
    const out = join(mnt, 'full.mp4');
    let filler = '';
    const child = startCli(args(out, ['--disk-reserve', '0']), ENV);
    const r = await collect(child, (e) => {
      if (e.type === 'segment' && e.index === 1 && !filler) filler = fill(mnt);
    });
    try {
      assert.equal(r.code, 4, r.stderr);
      const err = r.events.find((e): e is ErrorEvent => e.type === 'error');
      assert.match(err?.reason ?? '', /^disk-(full|reserve)$/);
      const m = readManifest(workFolder(out));
      assert.ok(m && m.segments.length >= 2, 'segments before the disk filled are kept');
      assert.ok(!existsSync(out));
      rmSync(filler, { force: true });
      const res = await runCli(['resume', out, '--json'], ENV);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(videoStreamHash(out), refHash, `${err?.reason}: ${firstDifference(out, join(root, 'ref.mp4'))}`);
    } finally {
      rmSync(filler, { force: true });
      rmSync(out, { force: true });
      rmSync(workFolder(out), { recursive: true, force: true });
      remount(mnt, '64k');
    }
  });

  it('manifest writes are atomic: on a full disk the old manifest stays readable', () => {
    const dir = join(mnt, 'm.huaju4k');
    mkdirSync(dir);
    const m = {
      format: 'huaju4k-job',
      version: 1,
      createdAt: '',
      updatedAt: '',
      input: { path: '/x', sizeBytes: 1, mtimeMs: 1, fingerprint: 'f' },
      output: '/x.out',
      args: [],
      paramsHash: 'h',
      params: {},
      segmentFrames: 4,
      totalFrames: 8,
      segments: [{ index: 0, startFrame: 0, frames: 4, bytes: 10, file: 'seg-000000.mp4' }],
    } satisfies JobManifest;
    writeManifest(dir, m);
    const before = readFileSync(join(dir, 'manifest.json'), 'utf8');
    const filler = fill(mnt);
    try {
      const huge = { ...m, args: ['x'.repeat(200 * 1024)] };
      assert.throws(() => writeManifest(dir, huge), /disk full while saving the checkpoint/);
      assert.equal(readFileSync(join(dir, 'manifest.json'), 'utf8'), before);
      assert.equal(readManifest(dir)?.segments.length, 1);
      assert.deepEqual(execFileSync('ls', [dir]).toString().trim().split('\n'), ['manifest.json'], 'no temp file left');
    } finally {
      rmSync(filler, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
    writeFileSync(join(mnt, 'ok'), 'space is back');
    rmSync(join(mnt, 'ok'));
  });
});
