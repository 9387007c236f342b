import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FrameDecoder } from '../../../src/engine/ffmpeg/decoder';
import { findFfmpegTools } from '../../../src/engine/ffmpeg/ffmpeg-tools';
import { probeMedia } from '../../../src/engine/ffmpeg/probe';
import { TileUpscaler } from '../../../src/engine/inference/upscaler';
import { loadModel } from '../../../src/engine/model/loader';
import { CANCEL_GRACE_MS } from '../../../src/extension/engine/engine-process';
import type { DoneEvent, StartEvent } from '../../../src/protocol/engine-events';
import {
  basicClip,
  clip,
  collect,
  decodeRgb,
  FAST_MODEL,
  freshDir,
  listDir,
  psnr,
  ROOT,
  runCli,
  startCli,
  streams,
} from './helpers';

async function decodeAll(path: string, startFrame?: number): Promise<Buffer[]> {
  const tools = findFfmpegTools();
  const info = await probeMedia(tools.ffprobe, path);
  const out: Buffer[] = [];
  for await (const f of new FrameDecoder({ ffmpeg: tools.ffmpeg, info, startFrame }).frames()) out.push(f.data);
  return out;
}

describe('engine: streaming enhance (CLI, real ffmpeg + ORT)', function () {
  this.timeout(120000);

  it('writes only the output: frame count, duration, audio, 4K size, JSON events', async () => {
    const dir = freshDir();
    const tmp = freshDir('huaju4k-tmp-');
    const input = join(dir, 'in.mp4');
    copyFileSync(basicClip(12), input);
    const r = await runCli(['enhance', input, '--model', FAST_MODEL, '--json'], { TMPDIR: tmp });
    assert.equal(r.code, 0, r.stderr);
    const out = join(dir, 'in.4k.mp4');
    assert.deepEqual(listDir(dir), ['in.4k.mp4', 'in.mp4'], 'no intermediate files beside the output');
    // tsx-* is the test harness's own transpile cache (the CLI runs from source here), not the engine's.
    assert.deepEqual(
      listDir(tmp).filter((f) => !f.startsWith('tsx-')),
      [],
      'nothing written to the temp dir',
    );
    const types = r.events.map((e) => e.type);
    assert.equal(types[0], 'start');
    assert.equal(types.at(-1), 'done');
    assert.ok(types.includes('progress'));
    const start = r.events[0] as StartEvent;
    assert.deepEqual(start.target, { width: 3840, height: 2160 });
    assert.equal(start.totalFrames, 12);
    const done = r.events.at(-1) as DoneEvent;
    assert.equal(done.frames, 12);
    assert.equal(done.output, out);
    // The model loop's time per frame after the first (what the As… estimate times a video's frames by).
    const steady = done.report.steadyFrameMs;
    assert.ok(steady !== undefined && steady > 0 && steady * 11 <= done.seconds * 1000, `steadyFrameMs ${steady}`);
    const s = streams(out);
    const v = s.find((x) => x.codec_type === 'video');
    const a = s.find((x) => x.codec_type === 'audio');
    assert.equal(v?.nb_read_packets, '12');
    assert.equal(v?.width, 3840);
    assert.equal(v?.height, 2160);
    assert.equal(v?.color_space, 'bt709');
    assert.ok(a, 'audio stream kept');
    assert.ok(Math.abs(Number(v?.duration) - 0.6) <= 0.05 + 1e-9, `video duration ${v?.duration}`);
    assert.ok(Math.abs(Number(a?.duration) - 0.6) <= 0.05 + 0.03, `audio duration ${a?.duration}`);
  });

  it('output frame equals the model output of the same decoded frame (≥ 38 dB), --max-frames trims audio too', async () => {
    const dir = freshDir();
    const input = join(ROOT, 'media/sample.mp4');
    const out = join(dir, 'x4.mkv');
    const r = await runCli([
      'enhance',
      input,
      '-o',
      out,
      '--model',
      FAST_MODEL,
      '--scale',
      '4',
      '--crf',
      '10',
      '--max-frames',
      '3',
      '--tile',
      '32',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /done: .*x4\.mkv/);
    const s = streams(out);
    assert.equal(s.find((x) => x.codec_type === 'video')?.nb_read_packets, '3');
    const a = s.find((x) => x.codec_type === 'audio');
    const [frame] = await decodeAll(input);
    const model = await loadModel(FAST_MODEL);
    const expected = await new TileUpscaler(model, { tile: 0, pad: 12 }).upscale(frame, 160, 90);
    const got = decodeRgb(out, ['-frames:v', '1']);
    const db = psnr(got, expected);
    assert.ok(db >= 38, `PSNR ${db.toFixed(2)} dB`);
    assert.ok(a, 'audio kept');
    assert.ok(Number(a?.duration ?? 0) < 0.3, `audio trimmed with the video: ${a?.duration}`);
    const tiled = await new TileUpscaler(model, { tile: 32, pad: 12 }).upscale(frame, 160, 90);
    const seam = psnr(tiled, expected);
    assert.ok(seam >= 45, `tiled vs whole-frame model output: ${seam.toFixed(2)} dB`);
  });

  it('target sizes follow the display aspect: odd, rotated, anamorphic', async () => {
    const cases: Array<[string, string[], [number, number]]> = [
      [
        'odd-rgb-63x35.mkv',
        ['-f', 'lavfi', '-i', 'testsrc=size=63x35:rate=10:duration=0.2', '-c:v', 'ffv1'],
        [3840, 2132],
      ],
      ['rot90-64x36.mp4', ['-i', basicClip(12), '-c', 'copy', '-metadata:s:v:0', 'rotate=90'], [1214, 2160]],
      [
        'sar-48x36.mp4',
        ['-f', 'lavfi', '-i', 'testsrc2=size=48x36:rate=10:duration=0.2', '-vf', 'setsar=16/15', '-c:v', 'libx264'],
        [3072, 2160],
      ],
    ];
    for (const [name, args, [w, h]] of cases) {
      const input = clip(name, args);
      const out = join(freshDir(), 'o.mp4');
      const r = await runCli(['enhance', input, '-o', out, '--model', FAST_MODEL, '--max-frames', '1', '--json']);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      const v = streams(out).find((x) => x.codec_type === 'video');
      assert.deepEqual([v?.width, v?.height], [w, h], name);
    }
  });

  it('keeps the frame count of a VFR source', async () => {
    const input = clip('vfr.mp4', [
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=64x36:rate=20:duration=1',
      '-vf',
      "select='not(mod(n\\,3))+lt(n\\,6)'",
      '-fps_mode',
      'vfr',
      '-c:v',
      'libx264',
    ]);
    const expected = Number(streams(input).find((x) => x.codec_type === 'video')?.nb_read_packets);
    const out = join(freshDir(), 'vfr.mp4');
    const r = await runCli(['enhance', input, '-o', out, '--model', FAST_MODEL, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.events.some((e) => e.type === 'warning' && e.code === 'vfr-source'));
    assert.equal(Number(streams(out).find((x) => x.codec_type === 'video')?.nb_read_packets), expected);
  });

  it('bad inputs give their exit code and a clear message', async () => {
    const dir = freshDir();
    const text = join(dir, 'notes.mp4');
    writeFileSync(text, 'this is not a video\n');
    const audio = clip('audio-only.m4a', ['-f', 'lavfi', '-i', 'sine=duration=0.2', '-c:a', 'aac']);
    const video = basicClip(12);
    const cases: Array<[string[], NodeJS.ProcessEnv, number, RegExp]> = [
      [['enhance', join(dir, 'missing.mp4')], {}, 2, /input not found/],
      [['enhance', text], {}, 2, /is not a video ffmpeg can read/],
      [['enhance', audio], {}, 2, /no video stream/],
      [
        ['enhance', video],
        { HUAJU4K_FFMPEG: join(dir, 'no-ffmpeg') },
        3,
        /ffmpeg not found[\s\S]*apt-get install ffmpeg/,
      ],
      [['enhance', video, '--model', join(dir, 'none.onnx')], {}, 3, /error: /],
      [['enhance', video, '-o', video], {}, 2, /overwrite the input/],
      [['enhance', video, '-o', join(dir, 'out.avi')], {}, 2, /unsupported output extension/],
      [['enhance', video, '--crf', 'x'], {}, 2, /--crf/],
      [['frobnicate'], {}, 2, /unknown command/],
      [['probe', text], {}, 2, /is not a video ffmpeg can read/],
    ];
    for (const [args, env, code, message] of cases) {
      const r = await runCli(args, env);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    const j = await runCli(['enhance', join(dir, 'missing.mp4'), '--json']);
    const err = j.events.find((e) => e.type === 'error');
    assert.equal(err?.type === 'error' && err.reason, 'input-missing');
    assert.deepEqual(listDir(dir), ['notes.mp4']);
  });

  it('probe prints the metadata', async () => {
    const r = await runCli(['probe', basicClip(12), '--json']);
    assert.equal(r.code, 0);
    const p = JSON.parse(r.stdout) as { width: number; frameCountEstimate: number; audioStreams: number };
    assert.deepEqual([p.width, p.frameCountEstimate, p.audioStreams], [64, 12, 1]);
    const h = await runCli(['probe', basicClip(12)]);
    assert.match(h.stdout, /displayWidth\s+64/);
  });

  it("SIGTERM mid-run: exit 5 before the extension's kill, children reaped, no output left, the encoded frames kept", async () => {
    const dir = freshDir();
    const input = join(dir, 'long.mp4');
    copyFileSync(basicClip(400), input);
    // A small frame budget keeps the decoder from finishing all 400 tiny frames before the check at frame 2.
    const child = startCli(['enhance', input, '--model', FAST_MODEL, '--json', '--buffer-mb', '16']);
    let kids: number[] = [];
    let sentAt = 0;
    const result = collect(child, (e) => {
      if (e.type === 'progress' && !sentAt && e.frame >= 2) {
        kids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)])
          .toString()
          .split('\n')
          .map(Number)
          .filter((n) => n > 0);
        sentAt = Date.now();
        child.kill('SIGTERM');
      }
    });
    const r = await result;
    const elapsed = Date.now() - sentAt;
    assert.equal(r.code, 5, r.stderr);
    // It closes the open segment first (a 4K encoder's flush): the bound is the extension's grace before SIGKILL.
    assert.ok(elapsed < CANCEL_GRACE_MS, `exited ${elapsed} ms after SIGTERM`);
    assert.ok(kids.length >= 2, `expected ffmpeg children, saw ${kids.join(',')}`);
    for (const pid of kids) assert.throws(() => process.kill(pid, 0), `child ${pid} still alive`);
    const cancelled = r.events.find((e) => e.type === 'error' && e.code === 5);
    // The open segment was closed at the cancel: its frames are kept in the work folder, no output is presented.
    assert.ok(cancelled?.type === 'error' && (cancelled.framesKept ?? 0) >= 2, 'the encoded frames are kept');
    assert.deepEqual(listDir(dir), ['long.4k.mp4.huaju4k', 'long.mp4']);
    assert.deepEqual(
      listDir(join(dir, 'long.4k.mp4.huaju4k')).filter((f) => f.includes('.partial.')),
      [],
      'no partial file',
    );
  });
});

describe('engine: decoder', function () {
  this.timeout(60000);
  it('starts frame-exactly at frame N (CFR hybrid seek and VFR trim)', async () => {
    const cfr = clip('cfr-gop.mp4', [
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=64x36:rate=25:duration=8',
      '-c:v',
      'libx264',
      '-g',
      '50',
      '-bf',
      '3',
    ]);
    const all = await decodeAll(cfr);
    assert.equal(all.length, 200);
    for (const n of [7, 163]) {
      const from = await decodeAll(cfr, n);
      assert.equal(from.length, 200 - n);
      assert.ok(from[0].equals(all[n]), `frame ${n}`);
    }
    const vfr = clip('vfr.mp4', []);
    const vAll = await decodeAll(vfr);
    const vFrom = await decodeAll(vfr, 5);
    assert.equal(vFrom.length, vAll.length - 5);
    assert.ok(vFrom[0].equals(vAll[5]));
  });
  it('decodes full-range, 4:2:2 10-bit and 4:4:4 sources with correct levels', async () => {
    for (const [name, fmt] of [
      ['white-yuvj420p.mp4', 'yuvj420p'],
      ['white-422p10.mkv', 'yuv422p10le'],
      ['white-444p.mp4', 'yuv444p'],
    ]) {
      const path = clip(name, [
        '-f',
        'lavfi',
        '-i',
        'color=c=white:size=64x36:rate=10:duration=0.2',
        '-pix_fmt',
        fmt,
        '-c:v',
        'libx264',
      ]);
      const [f] = await decodeAll(path);
      const mean = f.reduce((s, x) => s + x, 0) / f.length;
      assert.ok(mean > 252, `${fmt}: white decoded as ${mean.toFixed(1)}`);
    }
  });
});
