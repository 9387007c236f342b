import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnhanceArgs, parseJobsArgs, parseResumeArgs } from '../../../src/engine/args';
import { diffParams, inputIdentity, inputMismatch, paramsHash } from '../../../src/engine/checkpoint/fingerprint';
import { formatJobs, listJobs, resolveWorkDir } from '../../../src/engine/checkpoint/job-list';
import { concatList, joinArgs } from '../../../src/engine/checkpoint/join';
import { type JobManifest, readManifest, writeManifest } from '../../../src/engine/checkpoint/manifest';
import { openJob } from '../../../src/engine/checkpoint/open-job';
import { defaultSegmentFrames, pixelParams } from '../../../src/engine/checkpoint/pixel-params';
import { lockWorkDir, unlockWorkDir, workDirFor } from '../../../src/engine/checkpoint/workdir';
import { bitsPerPixel, checkDisk, estimateDisk, precheckDisk, resolveBudget } from '../../../src/engine/disk/guard';
import { parseBudgetSpec, parseBytes } from '../../../src/engine/disk/size-spec';
import { EngineError } from '../../../src/engine/errors';
import { encoderArgs } from '../../../src/engine/ffmpeg/encoder';
import type { MediaInfo } from '../../../src/engine/ffmpeg/probe';
import { lockContent } from '../../../src/protocol/engine-lock';
import { formatBytes } from '../../../src/protocol/format';
import { freshDir } from '../engine/helpers';

function manifest(over: Partial<JobManifest> = {}): JobManifest {
  return {
    format: 'huaju4k-job',
    version: 1,
    createdAt: '',
    updatedAt: '',
    input: { path: '/in.mp4', sizeBytes: 10, mtimeMs: 1, fingerprint: 'f' },
    output: '/out.mp4',
    args: ['enhance', '/in.mp4'],
    paramsHash: 'h',
    params: {},
    segmentFrames: 4,
    totalFrames: 10,
    segments: [],
    ...over,
  };
}

const errCode = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return err instanceof EngineError ? `${err.code}:${err.reason}` : String(err);
  }
  return 'no error';
};

describe('checkpoint: sizes, budget and estimate', () => {
  it('parses sizes and budgets', () => {
    assert.equal(parseBytes('20G'), 20 * 2 ** 30);
    assert.equal(parseBytes('1.5GiB'), 1.5 * 2 ** 30);
    assert.equal(parseBytes('500m'), 500 * 2 ** 20);
    assert.equal(parseBytes('4096'), 4096);
    assert.equal(parseBytes('0'), 0);
    assert.equal(parseBytes('lots'), undefined);
    assert.deepEqual(parseBudgetSpec('4x'), { multiple: 4 });
    assert.deepEqual(parseBudgetSpec('2.5X'), { multiple: 2.5 });
    assert.deepEqual(parseBudgetSpec('60K'), { bytes: 60 * 1024 });
    assert.equal(parseBudgetSpec('0x'), undefined);
    assert.equal(parseBudgetSpec('0'), undefined);
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(2048), '2.0 KiB');
    assert.equal(formatBytes(3 * 2 ** 20), '3.0 MiB');
    assert.equal(formatBytes(2 ** 31), '2.00 GiB');
  });

  it('default budget is 4× the input with a 1 GiB floor; explicit budgets are taken as given', () => {
    assert.equal(resolveBudget(undefined, 10 * 2 ** 30), 40 * 2 ** 30);
    assert.equal(resolveBudget(undefined, 1000), 2 ** 30);
    assert.equal(resolveBudget({ multiple: 2 }, 1000), 2000);
    assert.equal(resolveBudget({ bytes: 5 }, 1000), 5);
  });

  it('estimates from CRF and codec; the precheck and the in-run check name the knobs', () => {
    assert.ok(bitsPerPixel({ codec: 'libx264', crf: 24 }) < bitsPerPixel({ codec: 'libx264' }));
    assert.ok(bitsPerPixel({ codec: 'libx265' }) < bitsPerPixel({ codec: 'libx264' }));
    const est = estimateDisk({ width: 3840, height: 2160 }, 240, { codec: 'libx264' });
    assert.equal(est.peakBytes, 2 * est.outputBytes);
    const limits = { budgetBytes: est.peakBytes - 1, reserveBytes: 0 };
    assert.equal(
      errCode(() => precheckDisk(est, est.peakBytes, 0, 2 ** 40, limits)),
      '4:disk-budget',
    );
    assert.equal(
      errCode(() => precheckDisk(est, est.peakBytes, 0, est.peakBytes, { budgetBytes: 2 ** 40, reserveBytes: 1 })),
      '4:disk-space',
    );
    precheckDisk(est, est.peakBytes, 0, 2 ** 40, { budgetBytes: 2 ** 40, reserveBytes: 2 ** 30 });
    assert.equal(checkDisk(10, 1000, 10, { budgetBytes: 100, reserveBytes: 0 }), undefined);
    assert.equal(checkDisk(95, 1000, 10, { budgetBytes: 100, reserveBytes: 0 })?.reason, 'disk-budget');
    assert.equal(checkDisk(10, 100, 10, { budgetBytes: 1000, reserveBytes: 95 })?.reason, 'disk-reserve');
    // The folder is named (on a farm, each host's own view of the shared work folder).
    const stop = checkDisk(10, 100, 10, { budgetBytes: 1000, reserveBytes: 95 }, true, '/mnt/nas/x.mp4.huaju4k');
    assert.match(stop?.message ?? '', /free on the disk of \/mnt\/nas\/x\.mp4\.huaju4k,/);
    assert.throws(
      () => precheckDisk(est, est.peakBytes, 0, est.peakBytes, { budgetBytes: 2 ** 40, reserveBytes: 1 }, '/mnt/w'),
      /not enough free disk in \/mnt\/w:/,
    );
  });
});

describe('checkpoint: manifest, fingerprint, parameters', () => {
  it('writes atomically and reads back; rejects torn, foreign and out-of-order manifests', () => {
    const dir = freshDir();
    assert.equal(readManifest(dir), undefined);
    writeManifest(dir, manifest({ segments: [{ index: 0, startFrame: 0, frames: 4, bytes: 1, file: 's' }] }));
    assert.equal(readManifest(dir)?.segments.length, 1);
    assert.notEqual(readManifest(dir)?.updatedAt, '');
    writeFileSync(join(dir, 'manifest.json'), '{"format":"huaju4k-job","vers');
    assert.equal(
      errCode(() => readManifest(dir)),
      '2:checkpoint-corrupt',
    );
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ format: 'other' }));
    assert.equal(
      errCode(() => readManifest(dir)),
      '2:checkpoint-corrupt',
    );
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest(), segments: undefined }));
    assert.equal(
      errCode(() => readManifest(dir)),
      '2:checkpoint-corrupt',
    );
    const gap = manifest({ segments: [{ index: 0, startFrame: 2, frames: 4, bytes: 1, file: 's' }] });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(gap));
    assert.equal(
      errCode(() => readManifest(dir)),
      '2:checkpoint-corrupt',
    );
    const asDir = freshDir();
    mkdirSync(join(asDir, 'manifest.json'));
    assert.equal(
      errCode(() => readManifest(asDir)),
      '2:checkpoint-corrupt',
    );
  });

  it('fingerprints content (sampled for big files) and says what changed', () => {
    const dir = freshDir();
    const small = join(dir, 'a.bin');
    writeFileSync(small, Buffer.alloc(1000, 1));
    const a = inputIdentity(small);
    writeFileSync(small, Buffer.alloc(1000, 2));
    utimesSync(small, a.mtimeMs / 1000, a.mtimeMs / 1000);
    const b = inputIdentity(small);
    assert.notEqual(a.fingerprint, b.fingerprint);
    assert.equal(inputMismatch(a, b), 'input content changed');
    assert.match(inputMismatch(a, { ...a, path: '/x' }) ?? '', /path/);
    assert.match(inputMismatch(a, { ...a, sizeBytes: 1 }) ?? '', /size/);
    assert.match(inputMismatch(a, { ...a, mtimeMs: 5 }) ?? '', /modification time/);
    assert.equal(inputMismatch(a, { ...a }), undefined);
    const big = join(dir, 'big.bin');
    const data = Buffer.alloc(5 * 2 ** 20, 3);
    writeFileSync(big, data);
    const c = inputIdentity(big);
    data[data.length - 10] = 9; // inside the last sample
    writeFileSync(big, data);
    assert.notEqual(inputIdentity(big).fingerprint, c.fingerprint);
  });

  it('hashes parameters independent of key order and lists the differences', () => {
    assert.equal(paramsHash({ a: 1, b: 'x' }), paramsHash({ b: 'x', a: 1 }));
    assert.notEqual(paramsHash({ a: 1 }), paramsHash({ a: 2 }));
    assert.deepEqual(diffParams({ crf: null, tile: 0 }, { crf: 30, tile: 0 }), ['crf: null → 30']);
    const p = pixelParams({
      modelSha256: 's',
      modelScale: 4,
      target: { width: 3840, height: 2160 },
      tile: 0,
      encoder: { codec: 'libx264', threads: 3 },
      segmentFrames: 240,
      extra: { temporal: 'medium' },
    });
    assert.equal(p.preset, 'veryfast');
    assert.equal(p.target, '3840x2160');
    assert.equal(p.temporal, 'medium');
    assert.equal(defaultSegmentFrames(23.976), 240);
    assert.equal(defaultSegmentFrames(0), 250);
  });
});

describe('checkpoint: work folder, jobs, join', () => {
  it('opens fresh, refuses an existing job without --resume, resumes, drops segments whose file changed', () => {
    const dir = freshDir();
    const out = join(dir, 'o.mp4');
    const work = workDirFor(out);
    const base = {
      dir: work,
      output: out,
      input: { path: '/in', sizeBytes: 1, mtimeMs: 1, fingerprint: 'f' },
      params: { crf: 18 },
      segmentFrames: 4,
      totalFrames: 12,
      args: ['enhance', '/in'],
      resume: false,
    };
    const fresh = openJob(base);
    assert.equal(fresh.resumed, false);
    writeFileSync(join(work, 'seg-000000.mp4'), 'aaaa');
    writeFileSync(join(work, 'seg-000001.mp4'), 'bbbb');
    writeFileSync(join(work, 'seg-000002.7.partial.mp4'), 'cc');
    fresh.manifest.segments.push(
      { index: 0, startFrame: 0, frames: 4, bytes: 4, file: 'seg-000000.mp4' },
      { index: 1, startFrame: 4, frames: 4, bytes: 4, file: 'seg-000001.mp4' },
    );
    writeManifest(work, fresh.manifest);
    unlockWorkDir(work);
    assert.equal(
      errCode(() => openJob(base)),
      '2:job-exists',
    );
    assert.equal(
      errCode(() => openJob({ ...base, resume: true, params: { crf: 20 } })),
      '2:resume-params-changed',
    );
    assert.equal(
      errCode(() => openJob({ ...base, resume: true, input: { ...base.input, sizeBytes: 2 } })),
      '2:resume-input-changed',
    );
    writeFileSync(join(work, 'seg-000001.mp4'), 'changed!');
    const again = openJob({ ...base, resume: true });
    assert.equal(again.resumed, true);
    assert.deepEqual(again.dropped, { count: 1, file: 'seg-000001.mp4', why: 'changed size (4 → 8 bytes)' });
    assert.deepEqual(again.discarded.sort(), ['seg-000001.mp4', 'seg-000002.7.partial.mp4']);
    assert.equal(again.manifest.segments.length, 1);
    // A live engine holds the folder.
    writeFileSync(join(work, 'lock'), parentLock());
    assert.equal(
      errCode(() => lockWorkDir(work)),
      '2:job-running',
    );
    writeFileSync(join(work, 'lock'), '999999999');
    lockWorkDir(work);
    assert.equal(readFileSync(join(work, 'lock'), 'utf8'), lockContent());
  });

  it('lists interrupted jobs in a folder, by output or work folder, and unreadable ones', () => {
    const dir = freshDir();
    const out = join(dir, 'movie.4k.mp4');
    const work = workDirFor(out);
    mkdirSync(work);
    writeManifest(
      work,
      manifest({
        output: out,
        totalFrames: 10,
        segments: [{ index: 0, startFrame: 0, frames: 4, bytes: 1, file: 's' }],
      }),
    );
    const bad = join(dir, 'bad.mp4.huaju4k');
    mkdirSync(bad);
    writeFileSync(join(bad, 'manifest.json'), 'nope');
    mkdirSync(join(dir, 'unrelated'));
    const jobs = listJobs([dir]);
    assert.equal(jobs.length, 2);
    const j = jobs.find((x) => x.output === out);
    assert.equal(j?.percent, 40);
    assert.equal(j?.framesDone, 4);
    assert.ok(jobs.find((x) => x.workDir === bad)?.error);
    assert.deepEqual(
      listJobs([out]).map((x) => x.workDir),
      [work],
    );
    assert.deepEqual(
      listJobs([work]).map((x) => x.workDir),
      [work],
    );
    assert.equal(resolveWorkDir(work), work);
    assert.equal(resolveWorkDir(out), work);
    assert.deepEqual(listJobs([join(dir, 'none.mp4')]), []);
    assert.match(formatJobs(jobs), /40\.0% \(4\/10 frames[\s\S]*huaju4k resume/);
    assert.match(formatJobs(jobs), /unreadable checkpoint/);
    assert.equal(formatJobs([]), 'no interrupted or running jobs\n');
  });

  it('finds jobs in subfolders, and tells a running job (live lock) from an interrupted one', () => {
    const dir = freshDir();
    const out = join(dir, 'shows', '1906', 'film.4k.mp4');
    const work = workDirFor(out);
    mkdirSync(work, { recursive: true });
    writeManifest(
      work,
      manifest({
        output: out,
        totalFrames: 10,
        segments: [{ index: 0, startFrame: 0, frames: 4, bytes: 1, file: 's' }],
      }),
    );
    mkdirSync(join(dir, 'node_modules', 'x.mp4.huaju4k'), { recursive: true });
    const found = listJobs([dir]);
    assert.deepEqual(
      found.map((j) => j.workDir),
      [work],
      'the nested job, and nothing under node_modules',
    );
    assert.equal(found[0].runningPid, undefined);
    assert.match(formatJobs(found), /huaju4k resume/);
    writeFileSync(join(work, 'lock'), lockContent());
    const running = listJobs([dir]);
    assert.equal(running[0].runningPid, process.pid);
    assert.match(formatJobs(running), /running now \(engine pid \d+\): 4\/10 frames/);
    assert.doesNotMatch(formatJobs(running), /resume/);
    writeFileSync(join(work, 'lock'), '999999999');
    assert.equal(listJobs([dir])[0].runningPid, undefined, "a dead engine's lock is not running");
  });

  it('join args: concat without re-encode, source streams, -itsoffset once, trim', () => {
    assert.equal(concatList('/w', ["it's.mp4"]), "file '/w/it'\\''s.mp4'\n");
    const source = {
      path: '/src.mkv',
      videoStartS: 0.5,
      audio: [{ index: 1, codec: 'aac' }],
      subtitles: [],
    } as unknown as MediaInfo;
    const { args } = joinArgs(
      { ffmpeg: 'ffmpeg', dir: '/w', manifest: manifest(), source, output: '/o.mp4', durationS: 2 },
      '/w/list.txt',
    );
    const s = args.join(' ');
    assert.match(
      s,
      /-itsoffset 0\.500000 -f concat -safe 0 -i \/w\/list\.txt -i \/src\.mkv -map 0:v:0 -c:v copy -map 1:1/,
    );
    assert.match(s, /-t 2\.500000 -movflags \+faststart \/o\.mp4$/);
    assert.equal((s.match(/-itsoffset/g) ?? []).length, 1);
  });

  it('segment encoders pin their thread count; the CLI parses the checkpoint and disk options', () => {
    const base = {
      ffmpeg: 'ffmpeg',
      output: 'seg.mp4',
      frameSize: { width: 256, height: 144 },
      target: { width: 256, height: 144 },
      fpsRational: '20/1',
    };
    assert.match(encoderArgs({ ...base, settings: { codec: 'libx264', threads: 3 } }).args.join(' '), /-threads 3/);
    assert.match(
      encoderArgs({ ...base, settings: { codec: 'libx265', threads: 6 } }).args.join(' '),
      /pools=6:frame-threads=4/,
    );
    const a = parseEnhanceArgs([
      'in.mp4',
      '--segment-frames',
      '48',
      '--resume',
      '--disk-budget',
      '3x',
      '--disk-reserve',
      '500M',
    ]);
    assert.equal(a.segmentFrames, 48);
    assert.equal(a.resume, true);
    assert.deepEqual(a.diskBudget, { multiple: 3 });
    assert.equal(a.diskReserveBytes, 500 * 2 ** 20);
    assert.equal(parseEnhanceArgs(['in.mp4', '--disk-reserve-gb', '1']).diskReserveBytes, 2 ** 30);
    assert.equal(
      errCode(() => parseEnhanceArgs(['in.mp4', '--disk-budget', 'big'])),
      '2:usage',
    );
    assert.equal(
      errCode(() => parseEnhanceArgs(['in.mp4', '--disk-reserve', 'x'])),
      '2:usage',
    );
    assert.equal(
      errCode(() => parseEnhanceArgs(['in.mp4', '--segment-frames', '0'])),
      '2:usage',
    );
    assert.deepEqual(parseResumeArgs(['o.mp4', '--json']), { target: 'o.mp4', json: true });
    assert.equal(
      errCode(() => parseResumeArgs([])),
      '2:usage',
    );
    assert.deepEqual(parseJobsArgs([]), { paths: ['.'], json: false });
    assert.deepEqual(parseJobsArgs(['a', 'b', '--json']), { paths: ['a', 'b'], json: true });
  });
});

/** A lock held by this process's parent, naming its script as an engine's lock does (lockContent). */
function parentLock(): string {
  const cmdline = `/proc/${process.ppid}/cmdline`;
  const script = existsSync(cmdline) ? readFileSync(cmdline, 'utf8').split('\0')[1] : '';
  return `${process.ppid}\n${script}\n`;
}

describe('checkpoint: stale locks and missing job folders (issue 30)', () => {
  it('a live pid that is no engine (pid 1 after a reboot) holds no lock, in either lock form', function () {
    if (!existsSync('/proc/1/cmdline')) this.skip(); // command lines cannot be read here: a live pid is trusted
    const work = workDirFor(join(freshDir(), 'o.mp4'));
    mkdirSync(work, { recursive: true });
    writeManifest(work, manifest({ segments: [{ index: 0, startFrame: 0, frames: 4, bytes: 1, file: 's' }] }));
    for (const stale of ['1', '1\n/opt/huaju4k/dist/engine.js\n']) {
      writeFileSync(join(work, 'lock'), stale);
      assert.equal(listJobs([work])[0].runningPid, undefined, `stale lock ${JSON.stringify(stale)}`);
    }
    writeFileSync(join(work, 'lock'), lockContent());
    assert.equal(listJobs([work])[0].runningPid, process.pid, 'this process, named in the lock, runs');
  });

  it('jobs on a path whose folder does not exist is an error; one missing among others is not', () => {
    const dir = freshDir();
    assert.throws(() => listJobs([join(dir, 'no', 'such', 'folder')]), /no such file or folder/);
    assert.deepEqual(listJobs([join(dir, 'none.mp4')]), [], 'an output with no job simply has none');
    assert.deepEqual(listJobs([join(dir, 'no', 'such'), dir]), [], 'a missing path among others');
  });
});
