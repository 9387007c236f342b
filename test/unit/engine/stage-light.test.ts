import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseEnhanceArgs } from '../../../src/engine/args';
import type { PipelineFrame } from '../../../src/engine/pipeline/pipeline-types';
import { lightMask } from '../../../src/engine/stage-light/light-mask';
import { StageLightStage } from '../../../src/engine/stage-light/light-stage';
import { deterministicArgs, videoStreamHash } from '../resume/helpers';
import { clip, freshDir, runCli } from './helpers';

const W = 48;
const H = 32;
const S = 4;

/** xorshift noise, reproducible. */
function noise(seed: number): () => number {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 2 ** 32) * 2 - 1;
  };
}

/** Low-res frame: the left half a dark stage with sensor noise (±6 levels around 12), the right half lit texture. */
function stageFrame(): Uint8Array {
  const rnd = noise(7);
  const f = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = x < W / 2 ? 12 + 6 * rnd() : 120 + 60 * Math.sin(x * 0.9) * Math.cos(y * 0.7);
      f.fill(Math.round(v), (y * W + x) * 3, (y * W + x) * 3 + 3);
    }
  }
  return f;
}

/** A stand-in for the GAN's output: nearest-neighbour ×4 with a fine pattern painted everywhere (its "texture"). */
function paintedOutput(input: Uint8Array): Buffer {
  const out = Buffer.alloc(W * S * H * S * 3);
  for (let y = 0; y < H * S; y++) {
    for (let x = 0; x < W * S; x++) {
      const p = (Math.floor(y / S) * W + Math.floor(x / S)) * 3;
      for (let c = 0; c < 3; c++)
        out[(y * W * S + x) * 3 + c] = Math.max(0, Math.min(255, input[p + c] + ((x + y) % 2 ? 8 : -8)));
    }
  }
  return out;
}

const frameOf = (input: Uint8Array): PipelineFrame => ({
  index: 0,
  input: Buffer.from(input),
  inputSize: { width: W, height: H },
  output: paintedOutput(input),
  outputSize: { width: W * S, height: H * S },
});

/** Mean square of the horizontal pixel-to-pixel difference (green) over output columns [x0, x1). */
function hfEnergy(out: Buffer, x0: number, x1: number): number {
  let s = 0;
  let n = 0;
  for (let y = 0; y < H * S; y++) {
    for (let x = x0 + 1; x < x1; x++) {
      s += (out[(y * W * S + x) * 3 + 1] - out[(y * W * S + x - 1) * 3 + 1]) ** 2;
      n++;
    }
  }
  return s / n;
}

/** The mean level (green) over the dark half's interior, away from its edges. */
function darkLevel(buf: Buffer): number {
  let sum = 0;
  let n = 0;
  for (let y = 4 * S; y < (H - 4) * S; y++)
    for (let x = 4 * S; x < (W / 2 - 6) * S; x++, n++) sum += buf[(y * W * S + x) * 3 + 1];
  return sum / n;
}

describe('--dark-regions soften (stage-light)', () => {
  it('finds the large dark noisy area, not the lit one', () => {
    const { weight, any } = lightMask(stageFrame(), W, H);
    assert.ok(any);
    assert.equal(weight[(H / 2) * W + 6], 1, 'inside the dark half');
    assert.equal(weight[(H / 2) * W + W - 6], 0, 'inside the lit half');
  });

  it('softens the painted texture in the dark area and leaves every byte elsewhere as the model made it', () => {
    const frame = frameOf(stageFrame());
    const before = Buffer.from(frame.output);
    const out = new StageLightStage().process(frame).output;
    assert.deepEqual(frame.output, before, 'the model output itself is not written to');
    const dark = [0, (W / 2 - 8) * S] as const;
    assert.ok(hfEnergy(out, ...dark) < 0.5 * hfEnergy(before, ...dark), 'painted texture at least halved');
    const { weight } = lightMask(frame.input, W, H);
    // Outside the mask's reach (a low-res pixel with no weighted neighbour) the bytes are the model's.
    for (let y = 0; y < H * S; y++) {
      for (let x = 0; x < W * S; x++) {
        const lx = Math.floor(x / S);
        const ly = Math.floor(y / S);
        let near = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++)
            near += weight[Math.min(H - 1, Math.max(0, ly + dy)) * W + Math.min(W - 1, Math.max(0, lx + dx))];
        if (near > 0) continue;
        const i = (y * W * S + x) * 3;
        assert.deepEqual(out.subarray(i, i + 3), before.subarray(i, i + 3), `pixel ${x},${y}`);
      }
    }
  });

  it('the blend keeps the model’s own levels there: only the detail finer than an input pixel goes', () => {
    const frame = frameOf(stageFrame());
    // The model lifted the dark half by 10 levels (its own reading of the shadows): the soften keeps that level and
    // takes the painted checkerboard off. Blending toward the noisy input, as before, pulled it back toward the input.
    const lifted = Buffer.from(frame.output.map((v, i) => (Math.floor(i / 3) % (W * S) < (W / 2) * S ? v + 10 : v)));
    const out = new StageLightStage().process({ ...frame, output: lifted }).output;
    assert.ok(
      Math.abs(darkLevel(out) - darkLevel(lifted)) <= 0.5,
      `level ${darkLevel(out)} against the model's ${darkLevel(lifted)}`,
    );
    const dark = [0, (W / 2 - 8) * S] as const;
    assert.ok(hfEnergy(out, ...dark) < 0.1 * hfEnergy(lifted, ...dark), 'painted texture down by 90 % inside');
  });

  it('a frame with no dark or clipped area passes through as it is', () => {
    const lit = new Uint8Array(W * H * 3).map((_, i) => 90 + ((i * 37) % 60));
    const frame = frameOf(lit);
    assert.equal(new StageLightStage().process(frame), frame);
  });

  it('--dark-regions takes off|soften (default off) and names a wrong value', () => {
    assert.equal(parseEnhanceArgs(['in.mp4']).darkRegions, 'off');
    assert.equal(parseEnhanceArgs(['in.mp4', '--dark-regions', 'soften']).darkRegions, 'soften');
    assert.throws(
      () => parseEnhanceArgs(['in.mp4', '--dark-regions', 'blur']),
      /--dark-regions must be one of off, soften/,
    );
  });

  it('on a lit clip, --dark-regions soften encodes the same video as off', async function () {
    this.timeout(180_000);
    const dir = freshDir('huaju4k-light-');
    // testsrc2 at half contrast: levels 64-191, nothing dark or clipped.
    const input = clip('lit-12.mp4', [
      ...['-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=20:duration=0.6', '-vf', 'eq=contrast=0.5'],
      ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p'],
    ]);
    const env = { HUAJU4K_PROGRESS_EVERY_MS: '0' };
    const off = join(dir, 'off.mp4');
    const soft = join(dir, 'soft.mp4');
    assert.equal((await runCli(deterministicArgs(input, off, 6, ['--temporal', 'off']), env)).code, 0);
    const r = await runCli(deterministicArgs(input, soft, 6, ['--temporal', 'off', '--dark-regions', 'soften']), env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(videoStreamHash(soft), videoStreamHash(off));
  });
});
