import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { FramePool } from '../../../src/engine/inference/frame-pool';
import { WorkerUpscaler } from '../../../src/engine/inference/infer-worker';
import { nullTileModel } from '../../../src/engine/inference/null-model';
import { TileUpscaler } from '../../../src/engine/inference/upscaler';
import { basicClip, runCli } from './helpers';

/** A deterministic, non-repeating rgb24 image (every byte differs from its neighbours). */
function image(w: number, h: number): Buffer {
  const b = Buffer.alloc(w * h * 3);
  for (let i = 0; i < b.length; i++) b[i] = (i * 7919 + (i >> 3) * 31) & 255;
  return b;
}

/** ffmpeg's own nearest-neighbour ×4 of the same rgb24 image: the reference. */
function ffmpegNearest(rgb: Buffer, w: number, h: number): Buffer {
  return execFileSync(
    'ffmpeg',
    [
      ...['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${w}x${h}`, '-i', 'pipe:0'],
      ...['-vf', 'scale=iw*4:ih*4:flags=neighbor', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    ],
    { input: rgb, maxBuffer: 64 << 20 },
  );
}

interface NullBenchOutput {
  null: { name: string; frames: number; fps: number; userMsPerFrame?: number; sysMsPerFrame?: number }[];
}

describe('engine: --model null (built-in nearest ×4) and bench --null, real ffmpeg', function () {
  this.timeout(180_000);

  it('is ffmpeg’s nearest ×4, whole frame and tiled (row-copy stitching), and checks byte counts', async () => {
    const [w, h] = [37, 23];
    const rgb = image(w, h);
    const expected = ffmpegNearest(rgb, w, h);
    const whole = await new TileUpscaler(nullTileModel(), { tile: 0, pad: 12 }).upscale(rgb, w, h);
    assert.ok(whole.equals(expected), 'whole frame equals ffmpeg neighbor');
    const tiled = await new TileUpscaler(nullTileModel(), { tile: 8, pad: 10 }).upscale(rgb, w, h);
    assert.ok(tiled.equals(expected), 'tiles of 8 px, odd edges, stitched byte-exactly');
    const out = new Uint8Array(16 * w * h * 3);
    await assert.rejects(nullTileModel().runTile(rgb.subarray(1), w, h, out), RangeError);
  });

  it('runs in the inference worker; released frames go back across the thread (transferred, not copied)', async () => {
    const up = await WorkerUpscaler.start({ modelRef: 'null', tile: 16, pad: 12 });
    try {
      assert.equal(up.model.id, 'null');
      assert.equal(up.scale, 4);
      const rgb = image(40, 30);
      const a = await up.upscale(rgb, 40, 30);
      assert.ok(a.equals(ffmpegNearest(rgb, 40, 30)));
      up.release(a);
      assert.equal(a.buffer.byteLength, 0, 'the frame was transferred back to the worker');
      const b = await up.upscale(rgb, 40, 30);
      assert.ok(b.equals(ffmpegNearest(rgb, 40, 30)), 'a reused frame holds the new output');
    } finally {
      await up.close();
    }
  });

  it('FramePool hands back released buffers of the same size, keeps at most maxFree, ignores views', () => {
    const pool = new FramePool(1);
    const a = pool.acquire(100);
    const b = pool.acquire(100);
    pool.release(a);
    pool.release(b);
    assert.equal(pool.acquire(100), a, 'reused');
    assert.notEqual(pool.acquire(100), b, 'only one kept');
    pool.release(Buffer.from(a.buffer, 10, 50));
    assert.equal(pool.acquire(50).byteLength, 50);
    assert.equal(pool.allocated, 4);
  });

  it('bench --null: ffmpeg alone, two piped ffmpegs and the engine on the same frames, with CPU per frame', async () => {
    const benchDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith('huaju4k-bench-'));
    const before = new Set(benchDirs());
    const r = await runCli(['bench', basicClip(12), '--null', '--frames', '6', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as NullBenchOutput;
    assert.deepEqual(
      out.null.map((x) => x.name),
      ['ffmpeg', 'ffmpeg-pipe', 'engine-null'],
    );
    for (const x of out.null) {
      assert.equal(x.frames, 6, x.name);
      assert.ok(x.fps > 0, x.name);
      if (process.platform === 'linux') assert.ok((x.userMsPerFrame ?? 0) > 0, `${x.name} counts ffmpeg's CPU`);
    }
    assert.deepEqual(
      benchDirs().filter((n) => !before.has(n)),
      [],
    );
  });
});
