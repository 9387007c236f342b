import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest } from '../../../src/engine/checkpoint/manifest';
import type { EngineEvent, ErrorEvent, StartEvent } from '../../../src/protocol/engine-events';
import {
  assertSameTimes,
  basicClip,
  type CliResult,
  collect,
  frameTimes,
  freshDir,
  runCli,
  startCli,
  streams,
  vfrClip,
} from '../engine/helpers';
import {
  childProcesses,
  deterministicArgs,
  packets,
  partialFiles,
  prng,
  segmentsIn,
  videoStreamHash,
  waitGone,
  workFolder,
} from './helpers';

const FRAMES = 24;
const SEGMENT = 5;
const ENV = { HUAJU4K_PROGRESS_EVERY_MS: '0' };
const SEED = Number(process.env.HUAJU4K_KILL_SEED ?? Date.now() % 100000);

type Target = 'engine' | 'encoder';

interface KillResult {
  result: CliResult;
  /** Frame reported just before the kill. */
  atFrame: number;
  /** The engine's ffmpeg children at the time of the kill. */
  kids: number[];
}

/**
 * Runs the engine and SIGKILLs it (or its encoder child) at the first progress event from `frame` on at which the
 * victim exists: between two segments the encoder is briefly gone, and a short clip's decoder may have finished,
 * so a kill there would test nothing (an engine kill with no ffmpeg child to orphan) or the wrong thing.
 */
/** The encoder of the segment being written: the newest segment's (an older one may still be finishing). */
function openSegmentEncoder(procs: Array<{ pid: number; args: string }>) {
  const segment = (args: string) => Number(/seg-(\d+)\.\d+\.partial\.mp4/.exec(args)?.[1] ?? -1);
  const encoders = procs.filter((p) => segment(p.args) >= 0);
  return encoders.sort((a, b) => segment(b.args) - segment(a.args))[0];
}

async function runAndKill(args: string[], frame: number, target: Target): Promise<KillResult> {
  const child = startCli(args, ENV);
  let atFrame = -1;
  let kids: number[] = [];
  const result = await collect(child, (e: EngineEvent) => {
    if (atFrame >= 0 || e.type !== 'progress' || e.frame < frame) return;
    // Held while its children are looked at: a fast engine would otherwise close the segment (or the whole job)
    // between this event and the kill, and the kill would hit an encoder that had finished its work.
    child.kill('SIGSTOP');
    const procs = childProcesses(child.pid ?? 0);
    const encoder = openSegmentEncoder(procs);
    if (target === 'engine' ? procs.length === 0 : !encoder) {
      child.kill('SIGCONT');
      return;
    }
    atFrame = e.frame;
    kids = procs.map((p) => p.pid);
    if (encoder && target === 'encoder') process.kill(encoder.pid, 'SIGKILL');
    else child.kill('SIGKILL');
    child.kill('SIGCONT');
  });
  return { result, atFrame, kids };
}

/** After any interruption the checkpoint must read back, list contiguous segments, each verified whole. */
async function assertCheckpointSound(out: string): Promise<number> {
  const dir = workFolder(out);
  const m = readManifest(dir);
  assert.ok(m, `manifest in ${dir}`);
  let next = 0;
  for (const s of m.segments) {
    assert.equal(s.startFrame, next);
    assert.equal(await packets(join(dir, s.file)), s.frames, `${s.file} holds its recorded frames`);
    next += s.frames;
  }
  assert.ok(!existsSync(out), 'no output presented as complete');
  return next;
}

describe('resume: kill -9 at random frames, resume, byte-identical video', function () {
  this.timeout(600000);
  let dir: string;
  let input: string;
  let refHash: string;
  const args = (out: string) => deterministicArgs(input, out, SEGMENT);
  const rand = prng(SEED);
  const pick = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const summary: string[] = [];

  before(async () => {
    dir = freshDir('huaju4k-resume-');
    input = join(dir, 'in.mp4');
    copyFileSync(basicClip(FRAMES), input);
    const ref = join(dir, 'ref.mp4');
    const r = await runCli(args(ref), ENV);
    assert.equal(r.code, 0, r.stderr);
    refHash = videoStreamHash(ref);
    assert.equal(await packets(ref), FRAMES);
    assert.ok(!existsSync(workFolder(ref)), 'work folder removed after success');
    // A second uninterrupted run must be byte-identical too: the encoder settings are deterministic.
    const again = join(dir, 'again.mp4');
    assert.equal((await runCli(args(again), ENV)).code, 0);
    assert.equal(videoStreamHash(again), refHash, 'two uninterrupted runs differ: encoder not deterministic');
  });

  after(() => {
    process.stdout.write(`      kill seed ${SEED}; ${summary.join('; ')}\n`);
  });

  async function resumeToEnd(out: string, expectFrom: number): Promise<void> {
    const r = await runCli(['resume', out, '--json'], ENV);
    assert.equal(r.code, 0, r.stderr);
    const start = r.events.find((e): e is StartEvent => e.type === 'start');
    assert.equal(start?.resumeFromFrame, expectFrom, 'resumes at the first missing frame');
    const firstSeg = r.events.find((e) => e.type === 'segment');
    if (expectFrom < FRAMES) assert.equal(firstSeg?.type === 'segment' && firstSeg.startFrame, expectFrom);
    assert.equal(videoStreamHash(out), refHash, 'resumed video stream differs from the uninterrupted run');
    assert.equal(await packets(out), FRAMES, 'frame count');
    assert.ok(
      streams(out).some((s) => s.codec_type === 'audio'),
      'audio present',
    );
    assert.ok(!existsSync(workFolder(out)), 'work folder removed');
  }

  for (let trial = 0; trial < 3; trial++) {
    it(`engine SIGKILL, trial ${trial + 1}: two kills at random frames, then resume`, async () => {
      const out = join(dir, `engine-${trial}.mp4`);
      const k1 = pick(1, FRAMES - 8);
      const first = await runAndKill(args(out), k1, 'engine');
      assert.ok(first.atFrame >= 0, `no moment from frame ${k1} on with the engine's ffmpeg children alive`);
      assert.equal(first.result.code, null, 'killed by signal');
      assert.ok(first.kids.length >= 1, 'the engine had ffmpeg children');
      assert.deepEqual(await waitGone(first.kids), [], 'orphaned ffmpeg children exit on their own');
      const done1 = await assertCheckpointSound(out);
      const partial = partialFiles(workFolder(out)).length > 0;
      if (trial === 0) {
        // `huaju4k jobs` finds it in the folder, with the share done.
        const jobs = await runCli(['jobs', dir, '--json']);
        assert.equal(jobs.code, 0, jobs.stderr);
        const listed = (JSON.parse(jobs.stdout) as Array<{ output: string; framesDone: number; percent: number }>).find(
          (j) => j.output === out,
        );
        assert.equal(listed?.framesDone, done1);
        assert.equal(listed?.percent, Math.floor((done1 / FRAMES) * 1000) / 10);
      }
      // Second kill, during the resumed run.
      const k2 = pick(Math.max(k1, done1) + 1, FRAMES - 1);
      const second = await runAndKill(['resume', out, '--json'], k2, 'engine');
      assert.equal(second.result.code, null);
      assert.deepEqual(await waitGone(second.kids), []);
      const done2 = await assertCheckpointSound(out);
      assert.ok(done2 >= done1, 'a resume never loses recorded segments');
      await resumeToEnd(out, done2);
      summary.push(
        `engine kill at frames ${first.atFrame}/${second.atFrame} (segments kept ${done1}/${done2}${partial ? ', partial discarded' : ''}): identical`,
      );
    });
  }

  for (let trial = 0; trial < 2; trial++) {
    it(`encoder SIGKILL, trial ${trial + 1}: engine stops with exit 1 and a resumable checkpoint`, async () => {
      const out = join(dir, `encoder-${trial}.mp4`);
      // The first frame of a random segment after the first: the encoder has frames left, so the kill hits it live.
      const k = SEGMENT * pick(1, Math.floor(FRAMES / SEGMENT) - 1) + 1;
      const run = await runAndKill(args(out), k, 'encoder');
      assert.ok(run.atFrame >= 0, `no moment from frame ${k} on with the encoder alive`);
      assert.equal(run.result.code, 1, run.result.stderr);
      const err = run.result.events.find((e): e is ErrorEvent => e.type === 'error');
      assert.equal(err?.reason, 'encoder-failed');
      assert.ok(
        run.result.events.some((e) => e.type === 'warning' && e.code === 'resumable'),
        'tells how to resume',
      );
      assert.deepEqual(await waitGone(run.kids), [], 'children reaped');
      assert.deepEqual(partialFiles(workFolder(out)), [], 'the open segment was discarded');
      const done = await assertCheckpointSound(out);
      assert.equal(segmentsIn(workFolder(out)).length, done / SEGMENT);
      await resumeToEnd(out, done);
      summary.push(`encoder kill at frame ${run.atFrame} (kept ${done}): identical`);
    });
  }
});

describe('resume: a VFR clip killed and resumed keeps every frame at its source time', function () {
  this.timeout(600000);
  const rand = prng(SEED + 1);

  it("engine SIGKILL mid-job, then resume: the uninterrupted run's video stream and frame times", async () => {
    const dir = freshDir('huaju4k-vfr-resume-');
    const input = join(dir, 'vfr.mp4');
    copyFileSync(vfrClip(), input);
    const src = frameTimes(input);
    const args = (out: string) => deterministicArgs(input, out, 6);
    const ref = join(dir, 'ref.mp4');
    assert.equal((await runCli(args(ref), ENV)).code, 0);
    const out = join(dir, 'out.mp4');
    // Past the pause at frame 20 some of the time, so segments on both sides of it are recorded before the kill.
    const k = 8 + Math.floor(rand() * 25);
    const run = await runAndKill(args(out), k, 'engine');
    assert.ok(run.atFrame >= 0, `no moment from frame ${k} on with the engine's ffmpeg children alive`);
    assert.deepEqual(await waitGone(run.kids), []);
    const done = await assertCheckpointSound(out);
    const r = await runCli(['resume', out, '--json'], ENV);
    assert.equal(r.code, 0, r.stderr);
    const start = r.events.find((e): e is StartEvent => e.type === 'start');
    assert.equal(start?.resumeFromFrame, done, 'resumes at the first missing frame');
    assert.equal(videoStreamHash(out), videoStreamHash(ref), `killed at frame ${run.atFrame} (seed ${SEED})`);
    assertSameTimes(frameTimes(out), src, 1 / 90000);
    assert.deepEqual(frameTimes(out), frameTimes(ref), 'frame times as in the uninterrupted run');
    assert.ok(
      streams(out).some((s) => s.codec_type === 'audio'),
      'audio present',
    );
  });
});
