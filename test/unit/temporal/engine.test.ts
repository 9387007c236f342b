import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFfmpegTools } from '../../../src/engine/ffmpeg/ffmpeg-tools';
import { probeMedia } from '../../../src/engine/ffmpeg/probe';
import { TileUpscaler } from '../../../src/engine/inference/upscaler';
import { type LoadedModel, loadModel } from '../../../src/engine/model/loader';
import { runEnhance } from '../../../src/engine/pipeline/pipeline';
import type { FrameStage, FrameUpscaler } from '../../../src/engine/pipeline/pipeline-types';
import { createTemporal } from '../../../src/engine/temporal/create';
import { primeForResume, primeStartFor } from '../../../src/engine/temporal/resume-prime';
import { TemporalStage } from '../../../src/engine/temporal/temporal-stage';
import type { ProgressEvent } from '../../../src/protocol/engine-events';
import { meanAbsDiff, texture, withNoise, withSquare } from './frames';

const FAST_MODEL = 'realesr-animevideov3-x4';

function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return se === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255 * a.length) / se);
}

/** 64×36, 10 frames: a textured still with a small square moving across it, and ±`noise` noise (default 1). */
function stillWithMover(noise = 1): Buffer[] {
  const base = texture(64, 36, 21);
  return Array.from({ length: 10 }, (_, i) =>
    withNoise(withSquare(base, 64, { x: 4 + i * 3, y: 12, size: 6, rgb: [240, 240, 240] }), noise, i),
  );
}

describe('temporal: with the real model and engine', function () {
  this.timeout(120000);
  let model: LoadedModel;
  let dir: string;
  before(async () => {
    model = await loadModel(FAST_MODEL, { intraOpNumThreads: 1 });
    dir = mkdtempSync(join(tmpdir(), 'huaju4k-temporal-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function enhance(
    name: string,
    input: string,
    stages: FrameStage[] | undefined,
    upscaler: FrameUpscaler = new TileUpscaler(model, { tile: 0, pad: 12 }),
  ) {
    const tools = findFfmpegTools();
    const info = await probeMedia(tools.ffprobe, input);
    const output = join(dir, name);
    const events: Omit<ProgressEvent, 'ts'>[] = [];
    await runEnhance(
      { input, output, scale: 4, encoder: { codec: 'libx264' } },
      {
        tools,
        info,
        model: { ...model, executionProvider: 'cpu' },
        upscaler,
        tile: 0,
        stages,
        emit: (e) => {
          if (e.type === 'progress') events.push(e);
        },
      },
    );
    return { bytes: readFileSync(output), events };
  }

  it('--temporal off writes the same bytes as the engine without the stage (and medium does not)', async () => {
    const input = join(dir, 'in.mp4');
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=10:duration=0.8'],
      ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', input],
    ]);
    const plain = await enhance('plain.mp4', input, undefined);
    const off = await enhance('off.mp4', input, [new TemporalStage({ strength: 'off' })]);
    assert.ok(off.bytes.equals(plain.bytes), 'off must not change a single byte');
    const wired = createTemporal(new TileUpscaler(model, { tile: 0, pad: 12 }), { strength: 'off', reuse: false });
    assert.equal(wired.stages.length, 0);
    const viaCreate = await enhance('create-off.mp4', input, wired.stages, wired.upscaler);
    assert.ok(viaCreate.bytes.equals(plain.bytes));
    const medium = await enhance('medium.mp4', input, [new TemporalStage({ strength: 'medium' })]);
    assert.ok(!medium.bytes.equals(plain.bytes), 'medium blends, so its output differs');
    assert.ok(typeof medium.events.at(-1)?.stageMs.temporal === 'number');
  });

  it('progress and done report the reuse ratio when reuse is on', async () => {
    const input = join(dir, 'still.mp4');
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'smptehdbars=size=64x36:rate=10:duration=1'],
      ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', input],
    ]);
    const parts = createTemporal(new TileUpscaler(model, { tile: 0, pad: 12 }), { strength: 'medium', reuse: true });
    const r = await enhance('reuse.mp4', input, parts.stages, parts.upscaler);
    const last = r.events.at(-1);
    assert.ok(last && typeof last.reuseRatio === 'number' && last.reuseRatio > 0.5, JSON.stringify(last));
    const plain = await enhance('plain-progress.mp4', input, undefined);
    assert.equal(plain.events.at(-1)?.reuseRatio, undefined);
  });
});

/** Resumes at several points after priming; each must give the bytes of an uninterrupted run. */
async function primeMatchesUninterrupted(model: LoadedModel, cut: boolean, grain: boolean): Promise<void> {
  const frames = stillWithMover(grain ? 10 : 1);
  if (cut) frames[6] = Buffer.from(frames[6].map((v) => 255 - v));
  const make = () =>
    createTemporal(new TileUpscaler(model, { tile: 0, pad: 12 }), {
      strength: 'high',
      reuse: true,
      reuseOptions: { tile: 8, refreshEvery: 4 },
    });
  const size = { width: 64, height: 36 };
  let grainFrames = 0;
  const run = async (parts: ReturnType<typeof make>, from: number) => {
    const outs: Buffer[] = [];
    for (let i = from; i < frames.length; i++) {
      const output = await parts.upscaler.upscale(frames[i], 64, 36);
      if (parts.reuse?.lastGrainAllowance) grainFrames++;
      const f = { index: i, input: frames[i], inputSize: size, output, outputSize: { width: 256, height: 144 } };
      outs.push((parts.stage?.process(f) ?? f).output);
    }
    return outs;
  };
  const expected = await run(make(), 0);
  assert.equal(grainFrames > 0, grain, `frames reused with the grain allowance: ${grainFrames}`);
  for (const resume of [3, 5, 7, 9]) {
    const parts = make();
    const start = primeStartFor(resume, parts);
    assert.ok(start <= resume - (parts.stage?.primeFrames ?? 0) || start === 0);
    const it = (async function* () {
      for (const data of frames.slice(start)) yield { data };
    })();
    const fed = await primeForResume(it, start, resume, size, parts);
    assert.equal(fed, resume - start);
    const got = await run(parts, resume);
    for (let i = 0; i < got.length; i++) {
      assert.ok(got[i].equals(expected[resume + i]), `resume at ${resume}: frame ${resume + i} differs`);
    }
  }
}

describe('temporal: reuse and resume priming with the real model', function () {
  this.timeout(120000);
  let model: LoadedModel;
  before(async () => {
    model = await loadModel(FAST_MODEL, { intraOpNumThreads: 1 });
  });
  it('reuse with the real model: most tiles reused on a still scene, output within 40 dB PSNR of per-frame', async () => {
    const frames = stillWithMover();
    const plain = new TileUpscaler(model, { tile: 0, pad: 12 });
    const { upscaler, reuse } = createTemporal(new TileUpscaler(model, { tile: 0, pad: 12 }), {
      strength: 'off',
      reuse: true,
      reuseOptions: { tile: 8, pad: 6 },
    });
    for (const f of frames) {
      const a = await plain.upscale(f, 64, 36);
      const b = await upscaler.upscale(f, 64, 36);
      assert.ok(psnr(a, b) > 40, `${psnr(a, b).toFixed(1)} dB, mean |Δ| ${meanAbsDiff(a, b).toFixed(3)}`);
    }
    assert.ok((reuse?.reuseRatio ?? 0) > 0.4, `reuse ratio ${reuse?.reuseRatio}`);
  });

  for (const [cut, grain] of [
    [true, false],
    [false, false],
    [false, true],
  ]) {
    const what = cut ? ' (scene cut inside the window)' : grain ? ' (grain: the grain allowance in use)' : '';
    it(`prime for resume${what}: reuse + temporal state equals an uninterrupted run (byte-identical outputs)`, () =>
      primeMatchesUninterrupted(model, cut, grain));
  }
});
