import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { FrameEncoder } from '../../../src/engine/encoder';
import { clip, freshDir, runCli, streams } from './helpers';

/**
 * A phone-like VFR clip: 90 kHz time base, uneven steps (33.3 ms ± up to 26.7 ms) and a 167 ms pause after frame
 * 20, with 1.8 s of audio. Re-timed to its average rate, frame 20 onwards would be off by up to ~0.1 s.
 */
export function vfrClip(): string {
  return clip('vfr-90k-uneven.mp4', [
    ...['-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=30:duration=1.5'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=2.5', '-map', '0:v', '-map', '1:a'],
    ...['-vf', "settb=1/90000,setpts='N*3000+mod(N*N\\,7)*400+gte(N\\,20)*15000'", '-fps_mode', 'vfr'],
    ...['-enc_time_base', '1:90000', '-video_track_timescale', '90000', '-c:v', 'libx264', '-pix_fmt', 'yuv420p'],
    ...['-c:a', 'aac', '-t', '1.8'],
  ]);
}

/** Presentation times (seconds) of a file's video frames, in presentation order. */
export function frameTimes(path: string): number[] {
  const out = execFileSync('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', path],
  ]).toString();
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map(Number)
    .sort((a, b) => a - b);
}

/** Every output frame at its source frame's time, within one tick of the source's time base. */
export function assertSameTimes(out: number[], src: number[], tick: number): void {
  assert.equal(out.length, src.length, 'frame count');
  const worst = Math.max(...out.map((t, i) => Math.abs(t - src[i])));
  assert.ok(worst <= tick, `a frame is ${(worst * 1000).toFixed(3)} ms off its source time (allowed ${tick * 1e3} ms)`);
}

const audioDuration = (path: string): number =>
  Number(streams(path).find((s) => s.codec_type === 'audio')?.duration ?? Number.NaN);

describe('VFR: every frame keeps its source timestamp', function () {
  this.timeout(300000);
  const TICK = 1 / 90000;

  it('through several segments and the join, with the audio kept', async () => {
    const input = vfrClip();
    const src = frameTimes(input);
    // The clip is what the test claims: uneven steps, the pause included.
    const steps = src.slice(1).map((t, i) => t - src[i]);
    assert.ok(Math.max(...steps) - Math.min(...steps) > 0.15, `uneven steps: ${steps.join(' ')}`);
    const out = join(freshDir(), 'o.mp4');
    const r = await runCli(['enhance', input, '-o', out, '--model', 'null', '--scale', '4', '--segment-frames', '7']);
    assert.equal(r.code, 0, r.stderr);
    assertSameTimes(frameTimes(out), src, TICK);
    assert.match(r.stderr, /variable frame rate source: every frame is kept at its own time/);
    assert.ok(Math.abs(audioDuration(out) - audioDuration(input)) < 0.03, 'audio kept whole');
  });

  it('with --max-frames: the frames kept keep their times, the audio ends with the last one', async () => {
    const input = vfrClip();
    const src = frameTimes(input).slice(0, 26);
    const out = join(freshDir(), 'o.mp4');
    const r = await runCli([
      'enhance',
      input,
      '-o',
      out,
      '--model',
      'null',
      '--scale',
      '4',
      '--segment-frames',
      '8',
      '--max-frames',
      '26',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assertSameTimes(frameTimes(out), src, TICK);
    // Trimmed to the end of frame 26 (its time plus one average frame), never to 26 frames at the average rate.
    const end = src[25] + 1 / (45 / 1.684444);
    assert.ok(Math.abs(audioDuration(out) - end) < 0.03, `audio ${audioDuration(out)} s, video ends at ${end} s`);
  });

  for (const timeBase of ['1/90000', '1001/30000']) {
    it(`FrameEncoder with time base ${timeBase} writes each frame at the time it is given`, async () => {
      const [num, den] = timeBase.split('/').map(Number);
      const ticks = [0, 2, 3, 7, 8, 30, 31, 33].map((k) => Math.round((k * 1501 * den) / (num * 90000)));
      const out = join(freshDir(), 'timed.mp4');
      const enc = new FrameEncoder({
        ffmpeg: 'ffmpeg',
        output: out,
        frameSize: { width: 16, height: 8 },
        target: { width: 16, height: 8 },
        fpsRational: '30/1',
        timeBase,
        settings: { codec: 'libx264', threads: 1 },
      });
      for (const [i, t] of ticks.entries()) await enc.write(Buffer.alloc(16 * 8 * 3, i * 25), t);
      await enc.finish();
      assertSameTimes(
        frameTimes(out),
        ticks.map((t) => (t * num) / den),
        num / den,
      );
    });
  }
});
