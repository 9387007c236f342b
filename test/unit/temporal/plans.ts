import type { BlendPlan, PlannedBlend } from '../../../src/engine/temporal/blend-plan';
import type { WarpedPast } from '../../../src/engine/temporal/motion-blend';

// Frames and plans for the blend's tests (blend-simd.test.ts, blend-pool.test.ts).

/**
 * A random plan over `frames` (raw first, then the pasts): per block a weight for each past (some zero, some blocks
 * not blended at all), normalised as the stage does, and with `shifted` whole-pixel offsets that stay in the frame.
 */
export function randomPlan(
  r: () => number,
  size: { width: number; height: number; scale: number },
  pasts: Uint8Array[],
  shifted: boolean,
): PlannedBlend {
  const { width: w, height: h, scale: s } = size;
  const n = w * h;
  const plan: BlendPlan = {
    w0: new Float32Array(n),
    weights: pasts.map(() => new Float32Array(n)),
    shifts: shifted ? pasts.map(() => new Int32Array(n)) : undefined,
    pasts,
    blocks: 0,
  };
  for (let p = 0; p < n; p++) {
    if (r() < 0.2) continue;
    const raw = pasts.map((_, k) => (r() < 0.25 ? 0 : Math.fround(r() * 0.9 ** k)));
    const sum = 1 + raw.reduce((a, b) => a + b, 0);
    if (sum === 1) continue;
    plan.w0[p] = 1 / sum;
    plan.blocks++;
    const x = p % w;
    const y = (p - x) / w;
    for (let k = 0; k < pasts.length; k++) {
      plan.weights[k][p] = raw[k] / sum;
      if (!plan.shifts || raw[k] === 0) continue;
      // An offset in output pixels that keeps the block inside the frame.
      const ox = Math.floor(r() * (w * s - s + 1)) - x * s;
      const oy = Math.floor(r() * (h * s - s + 1)) - y * s;
      plan.shifts[k][p] = r() < 0.5 ? oy * w * s + ox : 0;
    }
  }
  return { plan, size };
}

export function randomFrame(r: () => number, bytes: number): Buffer {
  const f = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) f[i] = Math.floor(r() * 256);
  return f;
}

/** A smooth picture with a little noise (rgb24), so a past read a few pixels off agrees with it and one far off does not. */
export function smoothFrame(r: () => number, w: number, h: number, phase: number): Buffer {
  const f = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++)
        f[(y * w + x) * 3 + c] = (((x + phase) * 3 + y * 2 + c * 40) & 255) ^ Math.floor(r() * 4);
  return f;
}

/** The motion blend's per-block inputs as the warp worker gives them: weights (some 0), offsets inside the frame. */
export function randomWarped(
  r: () => number,
  size: { width: number; height: number; scale: number },
  outputs: Buffer[],
): WarpedPast[] {
  const { width: w, height: h, scale: s } = size;
  return outputs.map((output) => {
    const n = w * h;
    const q = { weight: new Float32Array(n), ox: new Int32Array(n), oy: new Int32Array(n), output };
    for (let p = 0; p < n; p++) {
      q.weight[p] = r() < 0.3 ? 0 : Math.fround(r());
      const x = p % w;
      const y = (p - x) / w;
      const reach = r() < 0.7 ? 2 : w * s;
      const ox = Math.max(-x * s, Math.min((w - 1 - x) * s, Math.round((r() * 2 - 1) * reach)));
      const oy = Math.max(-y * s, Math.min((h - 1 - y) * s, Math.round((r() * 2 - 1) * reach)));
      if (r() < 0.8) {
        q.ox[p] = ox;
        q.oy[p] = oy;
      }
    }
    return q;
  });
}
