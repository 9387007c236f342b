import assert from 'node:assert/strict';
import type { PipelineFrame } from '../../../src/engine/pipeline-types';
import { FrameHistory } from '../../../src/engine/temporal/frame-history';
import { MotionEstimator } from '../../../src/engine/temporal/motion';
import { TemporalStage } from '../../../src/engine/temporal/temporal-stage';
import { meanAbsDiff, ReplicateUpscaler, texture, withNoise, withSquare } from './frames';

const W = 32;
const H = 18;
const S = 2;

/** Frames whose "model output" is the input ×2 plus per-frame invented texture (noise on the output only). */
async function frameOf(index: number, input: Buffer, flickerAmp = 12): Promise<PipelineFrame> {
  const up = await new ReplicateUpscaler(S).upscale(input, W, H);
  return {
    index,
    input,
    inputSize: { width: W, height: H },
    output: withNoise(up, flickerAmp, 1000 + index),
    outputSize: { width: W * S, height: H * S },
  };
}

describe('temporal: frame history', () => {
  it('never holds more than its byte bound or its capacity, and keeps the newest', () => {
    const h = new FrameHistory(5, 1000);
    for (let i = 0; i < 40; i++) {
      const size = 50 + ((i * 37) % 300);
      h.push({ index: i, luma: new Uint8Array(size), output: new Uint8Array(size) });
      assert.ok(h.byteLength <= 1000, `${h.byteLength} bytes held`);
      assert.ok(h.size <= 5);
      assert.equal(h.at(0)?.index, i);
    }
    h.push({ index: 99, luma: new Uint8Array(600), output: new Uint8Array(600) });
    assert.equal(h.size, 0, 'an entry larger than the bound is not kept');
    assert.equal(h.byteLength, 0);
  });

  it('the stage keeps within maxBytes (the window shrinks to fit)', async () => {
    const entry = W * H + W * S * H * S * 3;
    const stage = new TemporalStage({ strength: 'high', maxBytes: entry * 2 + 10 });
    const base = texture(W, H, 4);
    for (let i = 0; i < 10; i++) {
      stage.process(await frameOf(i, withNoise(base, 1, i)));
      assert.ok(stage.heldBytes <= entry * 2 + 10);
    }
    assert.equal(stage.heldBytes, entry * 2);
  });
});

describe('temporal: stage', () => {
  it('off returns each frame untouched and holds nothing', async () => {
    const stage = new TemporalStage({ strength: 'off' });
    const base = texture(W, H, 2);
    for (let i = 0; i < 4; i++) {
      const f = await frameOf(i, base);
      const out = stage.process(f);
      assert.equal(out, f);
      assert.equal(out.output, f.output);
    }
    assert.equal(stage.heldBytes, 0);
  });

  it('damps flicker where the input is static (more with strength), and leaves moving areas alone', async () => {
    const base = texture(W, H, 5);
    const flicker: Record<string, number> = {};
    for (const strength of ['off', 'low', 'medium', 'high'] as const) {
      const stage = new TemporalStage({ strength });
      let prev: Buffer | undefined;
      let sum = 0;
      for (let i = 0; i < 12; i++) {
        const out = stage.process(await frameOf(i, withNoise(base, 2, i))).output;
        if (prev && i >= 6) sum += meanAbsDiff(out, prev);
        prev = out;
      }
      flicker[strength] = sum / 6;
    }
    assert.ok(flicker.low < flicker.off * 0.8, JSON.stringify(flicker));
    assert.ok(flicker.medium < flicker.low, JSON.stringify(flicker));
    assert.ok(flicker.high < flicker.medium, JSON.stringify(flicker));
    assert.ok(flicker.medium < flicker.off * 0.5, JSON.stringify(flicker));

    // A square moves: its pixels (and the pixels it left) must be exactly the model's new output.
    const stage = new TemporalStage({ strength: 'high' });
    for (let i = 0; i < 5; i++) {
      const input = withSquare(base, W, { x: 4 + i * 3, y: 6, size: 5, rgb: [255, 255, 255] });
      const f = await frameOf(i, input);
      const out = stage.process(f).output;
      if (i === 0) continue;
      for (let y = 6 * S; y < 11 * S; y++) {
        for (let x = (1 + i * 3) * S; x < (9 + i * 3) * S; x++) {
          const p = (y * W * S + x) * 3;
          assert.deepEqual([...out.subarray(p, p + 3)], [...f.output.subarray(p, p + 3)], `frame ${i} (${x},${y})`);
        }
      }
    }
  });

  it('resets on a scene cut: the first frame of the new shot is the model output itself', async () => {
    const stage = new TemporalStage({ strength: 'high' });
    const a = texture(W, H, 1);
    const b = Buffer.from(a.map((v) => 255 - v));
    for (let i = 0; i < 4; i++) stage.process(await frameOf(i, a));
    const cut = await frameOf(4, b);
    assert.equal(stage.process(cut).output, cut.output);
    assert.equal(stage.sceneCuts, 1);
    const after = await frameOf(5, b);
    assert.notEqual(stage.process(after).output, after.output, 'blends again within the new shot');
  });

  for (const motion of [false, true])
    it(`prime(frames before the resume point) gives the same outputs as an uninterrupted run${motion ? ' (following motion)' : ''}`, () =>
      primeMatchesUninterrupted(motion));
});

/** Resumes at several points (one right after a scene cut) and compares every later output with a whole run. */
async function primeMatchesUninterrupted(motion: boolean): Promise<void> {
  const base = texture(W, H, 8);
  const frames: PipelineFrame[] = [];
  for (let i = 0; i < 14; i++) {
    const moved = withSquare(base, W, { x: (i * 2) % W, y: 3, size: 4, rgb: [0, 0, 0] });
    const input = i === 7 ? Buffer.from(moved.map((v) => 255 - v)) : withNoise(moved, 2, i);
    frames.push(await frameOf(i, input));
  }
  for (const strength of ['low', 'medium', 'high'] as const) {
    const whole = new TemporalStage({ strength, motion: motion ? new MotionEstimator() : undefined });
    const expected = frames.map((f) => whole.process(f).output);
    for (const resume of [1, 5, 8, 9, 12]) {
      const resumed = new TemporalStage({ strength, motion: motion ? new MotionEstimator() : undefined });
      resumed.prime(frames.slice(Math.max(0, resume - resumed.primeFrames), resume));
      for (let i = resume; i < frames.length; i++) {
        assert.ok(resumed.process(frames[i]).output.equals(expected[i]), `${strength}: resume ${resume}, frame ${i}`);
      }
    }
  }
}
