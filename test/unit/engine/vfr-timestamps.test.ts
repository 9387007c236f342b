import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FrameEncoder } from '../../../src/engine/ffmpeg/encoder';
import { probeMedia, timingFromPackets } from '../../../src/engine/ffmpeg/probe';
import { assertSameTimes, clip, ffprobeJson, frameTimes, freshDir, runCli, streams, vfrClip } from './helpers';

const audioDuration = (path: string): number =>
  Number(streams(path).find((s) => s.codec_type === 'audio')?.duration ?? Number.NaN);
const videoDuration = (path: string): number =>
  Number(streams(path).find((s) => s.codec_type === 'video')?.duration ?? Number.NaN);

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
    const end = src[44] + 1 / (45 / 1.684444);
    assert.ok(Math.abs(videoDuration(out) - end) <= 2 * TICK, `video ends at ${videoDuration(out)} s, not ${end} s`);
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
    // The last frame lasts one average frame in the joined .mp4 too (it lasted one tick: the frame flashed).
    assert.ok(Math.abs(videoDuration(out) - end) <= 2 * TICK, `video ends at ${videoDuration(out)} s, not ${end} s`);
  });

  it('a VFR .ts or .mkv (no frame count in its header) is told VFR by its packet times, and keeps them', async () => {
    for (const ext of ['ts', 'mkv']) {
      const input = clip(`vfr-90k-uneven.${ext}`, ['-i', vfrClip(), '-c', 'copy']);
      const info = await probeMedia('ffprobe', input);
      assert.ok(info.vfr, `${ext}: VFR`);
      assert.ok(
        Math.abs(info.fps - 44 / (frameTimes(input).at(-1)! - frameTimes(input)[0])) < 0.01,
        `${ext}: ${info.fps} fps`,
      );
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
        '16',
      ]);
      assert.equal(r.code, 0, r.stderr);
      // Every step exact; the start as the source's, from its container start (a .ts starts at 1.4 s, its video
      // 21.3 ms after its audio), to the millisecond an mp4 edit list holds.
      const start = Number((ffprobeJson(input) as { format: { start_time: string } }).format.start_time);
      const src = frameTimes(input).map((t) => t - start);
      const got = frameTimes(out);
      assert.ok(Math.abs(got[0] - src[0]) <= 0.001, `${ext}: video starts at ${got[0]} s, source at ${src[0]} s`);
      const fromFirst = (ts: number[]) => ts.map((t) => t - ts[0]);
      assertSameTimes(fromFirst(got), fromFirst(src), ext === 'mkv' ? 0.001 : TICK);
    }
  });
});

describe('VFR parts: the timed encoder, telling VFR from packet times', function () {
  this.timeout(60000);

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

  it('CFR in a millisecond time base (33/34 ms steps) is not VFR; uneven steps are', () => {
    const ntsc = Array.from({ length: 30 }, (_, i) => Math.round((i * 1001) / 30));
    assert.deepEqual(timingFromPackets(ntsc, '1/1000').vfr, false);
    assert.ok(Math.abs(timingFromPackets(ntsc, '1/1000').fps - 29.97) < 0.05);
    assert.equal(timingFromPackets([0, 3000, 6000, 9000, 15000], '1/90000').vfr, true);
    assert.equal(timingFromPackets([0, 3003, 6006, 9009], '1/90000').vfr, false);
  });
});
