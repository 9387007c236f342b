import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest } from '../../../src/engine/checkpoint/manifest';
import { type DoneEvent, type EngineEvent, ExitCode } from '../../../src/protocol/engine-events';
import { decodeMono, ebur128, windowLevels } from '../../../tools/quality/audio-metrics';
import { speechMix } from '../../../tools/quality/speech-mix';
import { deterministicArgs, videoStreamHash, workFolder } from '../resume/helpers';
import { clip, collect, freshDir, runCli, startCli } from './helpers';

const CACHE = join(process.env.HUAJU4K_CACHE ?? '/tmp', 'test-media');
const ENV = { HUAJU4K_PROGRESS_EVERY_MS: '0' };

/** 64×36 video at 10 fps over a noisy line of dialogue (the made mix), AAC as a camera records it. */
function dialogueClip(): { path: string; mic: string; leadS: number } {
  const mix = speechMix(join(CACHE, 'speech-mix'), 'Two friends talk about the old house by the river.');
  const path = clip('dialogue-64x36.mp4', [
    ...['-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=10', '-i', mix.noisy],
    ...['-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k'],
    '-shortest',
  ]);
  return { path, mic: mix.mic, leadS: mix.leadS };
}

/** md5 of the audio stream's packets: the encoded sound, free of the container around it. */
function audioHash(path: string): string {
  const md5 = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-map', '0:a:0', '-c', 'copy', '-f', 'md5', '-']);
  return md5.toString().trim();
}

const fileHash = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

const done = (events: EngineEvent[]) => events.find((e): e is DoneEvent => e.type === 'done');

/** Level (dB) of the pause before the speech and of the loud speech windows, 100 ms RMS. */
function pauseAndSpeech(path: string, leadS: number): { pause: number; speech: number } {
  const lv = windowLevels(decodeMono(path));
  const lead = Math.floor(leadS * 10) - 2;
  const pause = lv.slice(1, lead).reduce((s, x) => s + 10 ** (x / 10), 0) / (lead - 1);
  const loud = [...lv].sort((a, b) => b - a).slice(0, Math.ceil(lv.length / 10));
  const speech = loud.reduce((s, x) => s + 10 ** (x / 10), 0) / loud.length;
  return { pause: 10 * Math.log10(pause), speech: 10 * Math.log10(speech) };
}

describe('--audio: the sound measured once per job, treated in the join', function () {
  this.timeout(300_000);
  let dir: string;
  let input: ReturnType<typeof dialogueClip>;
  before(() => {
    dir = freshDir('huaju4k-audio-');
    input = dialogueClip();
  });

  it('--audio copy gives the same file, byte for byte, as no --audio', async () => {
    const a = join(dir, 'plain.mp4');
    const b = join(dir, 'copy.mp4');
    assert.equal((await runCli(deterministicArgs(input.path, a, 20, ['--temporal', 'off']), ENV)).code, 0);
    const r = await runCli(deterministicArgs(input.path, b, 20, ['--temporal', 'off', '--audio', 'copy']), ENV);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fileHash(b), fileHash(a));
    assert.equal(done(r.events)?.report.audio, undefined, 'copy reports no treatment');
  });

  it('--audio clean: loudness at -16 LUFS ±1, true peak ≤ -1 dBTP, the pauses ≥ 10 dB further under the speech', async () => {
    const out = join(dir, 'clean.mp4');
    const r = await runCli(deterministicArgs(input.path, out, 20, ['--temporal', 'off', '--audio', 'clean']), ENV);
    assert.equal(r.code, 0, r.stderr);
    const loud = ebur128(out);
    assert.ok(Math.abs(loud.integratedLufs - -16) <= 1, `integrated ${loud.integratedLufs} LUFS`);
    assert.ok(loud.truePeakDb <= -1, `true peak ${loud.truePeakDb} dBTP`);
    const before = pauseAndSpeech(input.path, input.leadS);
    const after = pauseAndSpeech(out, input.leadS);
    const gained = after.speech - after.pause - (before.speech - before.pause);
    assert.ok(
      gained >= 10,
      `pause under speech: ${(before.speech - before.pause).toFixed(1)} → ${(after.speech - after.pause).toFixed(1)} dB`,
    );
    const report = done(r.events)?.report.audio;
    assert.equal(report?.mode, 'clean');
    assert.ok(report && report.before.noiseFloorDb < report.before.speechDb, 'measured levels reported');
    const probe = execFileSync('ffprobe', [
      '-v',
      'error',
      '-select_streams',
      'a:0',
      '-show_entries',
      'stream=codec_name,sample_rate',
      '-of',
      'csv=p=0',
      out,
    ]);
    assert.equal(probe.toString().trim(), 'aac,48000');
  });

  it('--audio stage --dark-regions soften, killed after the measurement and resumed: the same audio and video as an uninterrupted run, measured once', async () => {
    const ref = join(dir, 'stage-ref.mp4');
    const args = (out: string) =>
      deterministicArgs(input.path, out, 5, ['--temporal', 'off', '--audio', 'stage', '--dark-regions', 'soften']);
    assert.equal((await runCli(args(ref), ENV)).code, 0);
    const out = join(dir, 'stage.mp4');
    const child = startCli(args(out), ENV);
    let killed = false;
    await collect(child, (e) => {
      if (killed || e.type !== 'progress' || e.frame < 10) return;
      // Kill once the job's measurement is in the checkpoint (it runs beside the frames).
      if (readManifest(workFolder(out))?.audio) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    assert.ok(killed, 'the run was killed mid-way with the measurement saved');
    const m = readManifest(workFolder(out));
    assert.ok(m?.audio && m.segments.length > 0);
    // Mark the saved levels: the resumed report shows the mark only if it takes them from the checkpoint.
    m.audio.before.speechDb = -1.25;
    writeFileSync(join(workFolder(out), 'manifest.json'), JSON.stringify(m));
    const r = await runCli(['resume', out, '--json'], ENV);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(done(r.events)?.report.audio?.before.speechDb, -1.25, 'the resumed job did not measure again');
    assert.equal(audioHash(out), audioHash(ref), 'resumed audio differs from the uninterrupted run');
    assert.equal(videoStreamHash(out), videoStreamHash(ref), 'resumed video differs from the uninterrupted run');
  });
});

describe('--audio on a --max-frames trial', function () {
  this.timeout(300_000);
  it('measures only the seconds the trial encodes: the first second of the made mix is its pause, not its dialogue', async () => {
    const input = dialogueClip();
    const dir = freshDir('huaju4k-audio-trial-');
    const run = async (name: string, extra: string[]) => {
      const out = join(dir, name);
      const args = deterministicArgs(input.path, out, 20, ['--temporal', 'off', '--audio', 'clean', ...extra]);
      const r = await runCli(args, ENV);
      assert.equal(r.code, 0, r.stderr);
      const report = done(r.events)?.report.audio;
      assert.ok(report, 'an audio report');
      return report.before;
    };
    // 10 frames at 10 fps: the first second, inside the 1.5 s pause before the speech.
    const trial = await run('trial.mp4', ['--max-frames', '10']);
    const whole = await run('whole.mp4', []);
    // The pause holds the room's noise only: its loudness is the floor's, well under the dialogue's.
    assert.ok(
      trial.integratedLufs < whole.integratedLufs - 3,
      `trial ${trial.integratedLufs} LUFS, whole ${whole.integratedLufs} LUFS`,
    );
    assert.ok(trial.speechDb - trial.noiseFloorDb < 3, `trial: voices ${trial.speechDb}, floor ${trial.noiseFloorDb}`);
  });
});

describe('--audio on a cancelled job', function () {
  this.timeout(300_000);
  it('SIGTERM while the sound is measured: the job is cancelled and says nothing of the sound left untreated', async () => {
    // A minute of picture and sound: the measurement (three decoding passes) is still running at the first frames.
    const input = clip('long-sound-64x36.mp4', [
      ...['-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=10:duration=60'],
      ...['-f', 'lavfi', '-i', 'anoisesrc=color=pink:amplitude=0.1:duration=60:sample_rate=48000'],
      ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
    ]);
    const out = join(freshDir('huaju4k-audio-cancel-'), 'cancelled.mp4');
    const child = startCli(deterministicArgs(input, out, 20, ['--temporal', 'off', '--audio', 'clean']), ENV);
    let sent = false;
    const r = await collect(child, (e) => {
      if (sent || e.type !== 'progress') return;
      sent = true;
      child.kill('SIGTERM');
    });
    assert.ok(sent, 'cancelled mid-run');
    assert.equal(r.code, ExitCode.cancelled, r.stderr);
    const warned = r.events.filter((e) => e.type === 'warning' && e.code === 'audio-not-treated');
    assert.deepEqual(warned, [], 'no audio warning on cancel');
  });
});
