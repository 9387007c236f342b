import assert from 'node:assert/strict';
import { type BlendPlan, blendOnCpu, type PlanSize } from '../../../src/engine/temporal/blend-plan';

/** A small deterministic generator (the test's plans are the same every run). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * The blend as blend-plan.ts states it, written the plain way: per output byte of a blended block,
 * acc = w0·raw in a float32, then acc += wₖ·pastₖ(shifted) for each past in order, out = ⌊acc + 0.5⌋.
 */
function reference(raw: Uint8Array, plan: BlendPlan, size: PlanSize): Uint8Array {
  const { width: w, height: h, scale: s } = size;
  const ow = w * s;
  const out = Uint8Array.from(raw);
  const acc = new Float32Array(1);
  for (let y = 0; y < h * s; y++) {
    for (let x = 0; x < ow; x++) {
      const p = ((y / s) | 0) * w + ((x / s) | 0);
      if (plan.w0[p] === 0) continue;
      for (let c = 0; c < 3; c++) {
        const i = (y * ow + x) * 3 + c;
        acc[0] = plan.w0[p] * raw[i];
        for (let k = 0; k < plan.weights.length; k++) {
          const wt = plan.weights[k][p];
          if (wt !== 0) acc[0] += wt * plan.pasts[k][i + (plan.shifts?.[k][p] ?? 0) * 3];
        }
        out[i] = acc[0] + 0.5;
      }
    }
  }
  return out;
}

/** A random plan with `m` pasts: some blocks not blended, some pasts unused per block, shifts within the frame. */
function randomPlan(m: number, size: PlanSize, seed: number, shifted: boolean): { raw: Uint8Array; plan: BlendPlan } {
  const rnd = lcg(seed);
  const { width: w, height: h, scale: s } = size;
  const n = w * h;
  const bytes = n * s * s * 3;
  const bytesOf = () => Uint8Array.from({ length: bytes }, () => Math.floor(rnd() * 256));
  const raw = bytesOf();
  const plan: BlendPlan = {
    w0: new Float32Array(n),
    weights: Array.from({ length: m }, () => new Float32Array(n)),
    shifts: shifted ? Array.from({ length: m }, () => new Int32Array(n)) : undefined,
    pasts: Array.from({ length: m }, bytesOf),
    blocks: 0,
  };
  for (let p = 0; p < n; p++) {
    if (rnd() < 0.2) continue;
    const x = p % w;
    const y = (p / w) | 0;
    let sum = 1;
    for (let k = 0; k < m; k++) {
      if (rnd() < 0.3) continue;
      plan.weights[k][p] = rnd();
      sum += plan.weights[k][p];
      // Whole output pixels, keeping the shifted block inside the frame.
      const ox = Math.floor(rnd() * (w * s - s + 1)) - x * s;
      const oy = Math.floor(rnd() * (h * s - s + 1)) - y * s;
      if (plan.shifts) plan.shifts[k][p] = oy * w * s + ox;
    }
    if (sum === 1) continue;
    plan.w0[p] = 1 / sum;
    for (let k = 0; k < m; k++) plan.weights[k][p] /= sum;
    plan.blocks++;
  }
  return { raw, plan };
}

describe('temporal: the blend on typed arrays (blendOnCpu) is the float32 formula, byte for byte', () => {
  for (const m of [1, 2, 3, 4, 5])
    for (const shifted of [false, true])
      it(`${m} past(s), ${shifted ? 'shifted' : 'in place'}: the same bytes as the plain per-byte float32 loop`, () => {
        const size = { width: 13, height: 7, scale: 4 };
        const { raw, plan } = randomPlan(m, size, 1000 * m + (shifted ? 1 : 0), shifted);
        assert.ok(plan.blocks > 0);
        const want = reference(raw, plan, size);
        const out = Uint8Array.from(raw);
        blendOnCpu(raw, plan, out, size);
        assert.notDeepEqual(want, raw, 'the plan blends something');
        assert.deepEqual(out, want);
      });
});
