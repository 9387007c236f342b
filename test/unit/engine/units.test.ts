import assert from 'node:assert/strict';
import { parseBenchArgs, parseEnhanceArgs, parseProbeArgs } from '../../../src/engine/args';
import { sourceColorMatrix, sourceRange } from '../../../src/engine/colour';
import { encoderArgs } from '../../../src/engine/encoder';
import { EngineError } from '../../../src/engine/errors';
import { createEmitter, formatHuman } from '../../../src/engine/events';
import { FrameRing, splitBudget } from '../../../src/engine/frame-ring';
import { downscaleRgb } from '../../../src/engine/preview';
import { bitDepthOf, parseRational } from '../../../src/engine/probe';
import { planStreams } from '../../../src/engine/stream-map';
import { fitInside, parseTargetOption, resolveTarget, scaleBy } from '../../../src/engine/target-size';
import { parseTileOption } from '../../../src/engine/tile-size';
import { planTiles } from '../../../src/engine/tiler';
import type { EngineEvent } from '../../../src/protocol/engine-events';

describe('engine: target size rule', () => {
  it('fits the display size inside 3840x2160 with even sizes', () => {
    assert.deepEqual(fitInside({ width: 960, height: 540 }), { width: 3840, height: 2160 });
    assert.deepEqual(fitInside({ width: 214, height: 160 }), { width: 2888, height: 2160 });
    assert.deepEqual(fitInside({ width: 768, height: 576 }), { width: 2880, height: 2160 });
    assert.deepEqual(fitInside({ width: 63, height: 35 }), { width: 3840, height: 2132 });
    assert.deepEqual(fitInside({ width: 36, height: 64 }), { width: 1214, height: 2160 });
  });
  it('--scale multiplies the display size; --target parses and rejects odd sizes', () => {
    assert.deepEqual(scaleBy({ width: 63, height: 35 }, 4), { width: 252, height: 140 });
    assert.deepEqual(resolveTarget({ width: 64, height: 36 }, { scale: 2 }), { width: 128, height: 72 });
    assert.deepEqual(resolveTarget({ width: 64, height: 36 }, { target: '1920x1080' }), { width: 1920, height: 1080 });
    assert.deepEqual(parseTargetOption('1280×720'), { width: 1280, height: 720 });
    assert.throws(() => parseTargetOption('1921x1080'), EngineError);
    assert.throws(() => parseTargetOption('big'), /WIDTHxHEIGHT/);
    assert.throws(() => resolveTarget({ width: 64, height: 36 }, { scale: 0 }), /--scale/);
  });
});

describe('engine: frame ring', () => {
  it('never holds more than its budget, applies backpressure and keeps order', async () => {
    const ring = new FrameRing<number>(100);
    const order: string[] = [];
    const producer = (async () => {
      for (let i = 0; i < 10; i++) {
        await ring.push(i, 40);
        order.push(`p${i}`);
        assert.ok(ring.usedBytes <= 100);
      }
      ring.close();
    })();
    const got: number[] = [];
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(ring.length, 2, 'producer must wait once two 40-byte items fill the 100-byte budget');
    for (;;) {
      const x = await ring.shift();
      if (x === undefined) break;
      got.push(x);
    }
    await producer;
    assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(ring.peakBytes <= 100);
    assert.equal(ring.usedBytes, 0);
  });
  it('admits one oversize item when empty, and abort fails both ends', async () => {
    const ring = new FrameRing<string>(10);
    await ring.push('big', 50);
    const blocked = ring.push('next', 5);
    ring.abort(new Error('stage died'));
    await assert.rejects(blocked, /stage died/);
    await assert.rejects(ring.shift(), /stage died/);
    assert.throws(() => new FrameRing(0), RangeError);
    const closed = new FrameRing<string>(10);
    closed.close();
    await assert.rejects(closed.push('x', 1), /closed/);
  });
  it('splits a budget so both rings hold the same number of frames', () => {
    assert.deepEqual(splitBudget(1000, 10, 160), [50, 800]);
    assert.deepEqual(splitBudget(10, 10, 160), [10, 160]);
  });
});

describe('engine: tiling plan', () => {
  it('covers every pixel exactly once with padding clipped to the frame', () => {
    for (const [w, h, t] of [
      [64, 36, 16],
      [63, 35, 32],
      [10, 10, 0],
      [100, 7, 33],
    ]) {
      const seen = new Uint8Array(w * h);
      for (const r of planTiles(w, h, t, 10)) {
        assert.ok(r.px >= 0 && r.py >= 0 && r.px + r.pw <= w && r.py + r.ph <= h);
        assert.ok(r.x - r.px === Math.min(10, r.x) && r.y - r.py === Math.min(10, r.y));
        for (let y = r.y; y < r.y + r.h; y++) for (let x = r.x; x < r.x + r.w; x++) seen[y * w + x]++;
      }
      assert.ok(
        seen.every((v) => v === 1),
        `${w}x${h} tile ${t}`,
      );
    }
  });
  it('--tile: auto, 0 (whole frame) or an integer ≥ 32', () => {
    assert.equal(parseTileOption(undefined), 'auto');
    assert.equal(parseTileOption('256'), 256);
    assert.throws(() => parseTileOption('7'), RangeError);
  });
});

describe('engine: colour and probe helpers', () => {
  it('picks the matrix from tags, else by size, and the range', () => {
    assert.equal(sourceColorMatrix({ colorMatrix: 'bt470bg', width: 1920, height: 1080 }), 'bt601');
    assert.equal(sourceColorMatrix({ colorMatrix: 'bt2020nc', width: 64, height: 36 }), 'bt2020');
    assert.equal(sourceColorMatrix({ colorMatrix: 'bt709', width: 64, height: 36 }), 'bt709');
    assert.equal(sourceColorMatrix({ width: 1280, height: 720 }), 'bt709');
    assert.equal(sourceColorMatrix({ width: 720, height: 576 }), 'bt601');
    assert.equal(sourceColorMatrix({ colorMatrix: 'fcc', width: 1, height: 1 }), 'fcc');
    assert.equal(sourceColorMatrix({ colorMatrix: 'smpte240m', width: 1, height: 1 }), 'smpte240m');
    assert.equal(sourceRange({ pixFmt: 'yuvj420p' }), 'pc');
    assert.equal(sourceRange({ colorRange: 'pc', pixFmt: 'yuv420p' }), 'pc');
    assert.equal(sourceRange({ pixFmt: 'yuv420p10le' }), 'tv');
    assert.equal(bitDepthOf('yuv422p10le'), 10);
    assert.equal(bitDepthOf('rgb24'), 8);
    assert.equal(parseRational('30000/1001').toFixed(3), '29.970');
    assert.equal(parseRational('25'), 25);
    assert.equal(parseRational('1/0'), 0);
  });
});

describe('engine: stream mapping', () => {
  it('copies what the container takes, transcodes or drops the rest with a warning', () => {
    const info = {
      audio: [
        { index: 1, codec: 'aac' },
        { index: 2, codec: 'pcm_s16le' },
      ],
      subtitles: [
        { index: 3, codec: 'subrip' },
        { index: 4, codec: 'hdmv_pgs_subtitle' },
        { index: 5, codec: 'mov_text' },
      ],
    };
    const mp4 = planStreams(info, 'out.mp4');
    assert.deepEqual(mp4.args, [
      '-map',
      '1:1',
      '-c:a:0',
      'copy',
      '-map',
      '1:2',
      '-c:a:1',
      'aac',
      '-b:a:1',
      '192k',
      '-map',
      '1:3',
      '-c:s:0',
      'mov_text',
      '-map',
      '1:5',
      '-c:s:1',
      'copy',
    ]);
    assert.deepEqual(
      mp4.warnings.map((w) => w.code),
      ['audio-transcoded', 'subtitle-transcoded', 'subtitle-dropped'],
    );
    const mkv = planStreams(info, 'out.mkv');
    assert.equal(mkv.warnings.length, 1, 'mkv keeps everything but mov_text');
    assert.equal(planStreams(info, 'out.mov').warnings[0].code, 'subtitle-transcoded');
    assert.throws(() => planStreams(info, 'out.avi'), /unsupported output extension/);
    assert.equal(planStreams({ audio: [], subtitles: [] }, 'x.mp4').mapsSource, false);
  });
  it('encoder args: lanczos to target, bt709 tags, trim to max frames, codec settings', () => {
    const base = {
      ffmpeg: 'ffmpeg',
      output: 'o.mkv',
      frameSize: { width: 256, height: 144 },
      target: { width: 3840, height: 2160 },
      fpsRational: '30000/1001',
    };
    const x265 = encoderArgs({ ...base, settings: { codec: 'libx265' }, maxFrames: 30 }).args.join(' ');
    assert.match(x265, /scale=3840:2160:flags=lanczos/);
    assert.match(x265, /-c:v libx265 -preset fast -crf 20/);
    assert.match(x265, /-frames:v 30 -t 1\.001000/);
    assert.match(x265, /-colorspace bt709/);
    assert.doesNotMatch(x265, /faststart/);
    const nv = encoderArgs({
      ...base,
      target: base.frameSize,
      settings: { codec: 'h264_nvenc', crf: 21 },
      videoStartS: 0.5,
    });
    assert.match(
      nv.args.join(' '),
      /^-nostdin .* -itsoffset 0\.500000 .*-vf scale=out_color_matrix=bt709:out_range=tv,format=yuv420p .*-cq 21/,
    );
  });
});

describe('engine: CLI arguments', () => {
  it('parses enhance options and rejects bad ones with usage errors (exit 2)', () => {
    const a = parseEnhanceArgs([
      'in.mp4',
      '-o',
      'x.mp4',
      '--tile',
      '128',
      '--crf',
      '20',
      '--max-frames',
      '5',
      '--json',
    ]);
    assert.equal(a.input, 'in.mp4');
    assert.equal(a.tile, 128);
    assert.equal(a.encoder.crf, 20);
    assert.equal(a.maxFrames, 5);
    assert.equal(a.json, true);
    for (const bad of [
      [],
      ['a', 'b'],
      ['a', '--target', '1920x1080', '--scale', '2'],
      ['a', '--encoder', 'xvid'],
      ['a', '--crf', '99'],
      ['a', '--scale', 'x'],
      ['a', '--tile', '3'],
      ['a', '--bogus'],
      ['a', '--preset', 'a;b'],
    ]) {
      assert.throws(
        () => parseEnhanceArgs(bad),
        (e: unknown) => e instanceof EngineError && e.code === 2,
        bad.join(' '),
      );
    }
    assert.deepEqual(parseProbeArgs(['x', '--json']), { input: 'x', json: true });
    assert.throws(() => parseProbeArgs([]), EngineError);
    assert.equal(parseBenchArgs([]).frames, 20);
    assert.equal(parseBenchArgs(['--mode', 'model', '--frames', '3']).mode, 'model');
    assert.throws(() => parseBenchArgs(['--mode', 'x']), EngineError);
    assert.throws(() => parseBenchArgs(['a', 'b']), EngineError);
    const gpu = parseBenchArgs(['--ep', 'cuda', '--precision', 'fp16', '--encoder', 'h264_nvenc']);
    assert.deepEqual([gpu.ep, gpu.precision, gpu.encoder], ['cuda', 'fp16', 'h264_nvenc']);
    const dflt = parseBenchArgs([]);
    assert.deepEqual([dflt.ep, dflt.precision, dflt.encoder], ['auto', 'auto', 'libx264']);
    for (const bad of [
      ['--ep', 'metal'],
      ['--precision', 'int4'],
      ['--encoder', 'av1'],
    ]) {
      assert.throws(() => parseBenchArgs(bad), EngineError, bad.join(' '));
    }
  });
});

describe('engine: events', () => {
  it('emits JSON lines with timestamps, IPC messages, and human lines', () => {
    const sent: EngineEvent[] = [];
    const human: string[] = [];
    const sink = { write: (s: string) => human.push(s) } as unknown as NodeJS.WritableStream;
    const emit = createEmitter({ json: false, send: (e) => sent.push(e), human: sink, isTTY: true });
    const stage = { decode: 1, infer: 2, encode: 3 };
    emit({ type: 'progress', frame: 1, total: 4, fps: 2, etaS: 4000, stageMs: stage });
    emit({ type: 'warning', code: 'x', message: 'careful' });
    emit({ type: 'sample', rssBytes: 1, frameBufferBytes: 0, frameBufferBudgetBytes: 1, freeDiskBytes: 1 });
    assert.equal(sent.length, 3);
    assert.ok(sent.every((e) => typeof e.ts === 'number'));
    assert.match(human[0], /^\r {2}frame 1\/4 \(25\.0%\) {2}2\.00 fps {2}eta 1h06m/);
    assert.match(human[1], /^\nwarning: careful/);
    assert.match(formatHuman({ ...sent[0], etaS: 75 } as EngineEvent) ?? '', /eta 1m15s/);
    assert.match(
      formatHuman({ type: 'error', ts: 1, code: 3, reason: 'r', message: 'm', hint: 'h' }) ?? '',
      /error: m\n {2}hint: h/,
    );
    assert.match(
      formatHuman({ type: 'segment', ts: 1, index: 2, startFrame: 0, endFrame: 9, bytes: 1 }) ?? '',
      /segment 2/,
    );
  });
  it('box-downscales preview frames', () => {
    const src = new Uint8Array(4 * 2 * 3).map((_, i) => (i % 3 === 0 ? 200 : 0));
    const d = downscaleRgb(src, 4, 2, 2);
    assert.equal(d.width, 2);
    assert.equal(d.height, 1);
    assert.deepEqual([...d.data], [200, 0, 0, 200, 0, 0]);
    assert.equal(downscaleRgb(src, 4, 2, 1).data, src);
  });
});
