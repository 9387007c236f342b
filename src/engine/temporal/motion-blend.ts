import { type BlendPlan, completePlan, type PlanSize } from './blend-plan';
import {
  erode3x3,
  type MaskThresholds,
  smoothedAbsDiff,
  smoothedAbsDiffIn,
  weightOf,
  weightsFromDiff,
} from './change-mask';
import type { MotionLink, Rect } from './motion';

/**
 * Motion-compensated blend weights and the blend itself. Each past output is warped onto the current frame by the
 * chained low-res backward flows, scaled to the output and rounded to whole output pixels (no resampling blur, so
 * the model's texture stays crisp; the error is at most half an output pixel). Per low-res pixel and past frame
 * two hypotheses are judged on the low-res input: "did not move" (today's static blend) and "moved as the flow
 * says"; the one whose 3×3-smoothed luma difference is smaller wins, so a fixed camera blends exactly as before.
 */

/** One past frame as seen from the current one: per low-res pixel, blend weight and whole-output-pixel offset. */
export interface WarpedPast {
  weight: Float32Array;
  ox: Int32Array;
  oy: Int32Array;
  output: Uint8Array;
}

/**
 * A block whose warped past differs from the new output by more than this mean (levels, RGB) is not blended:
 * the prediction disagrees with what the model made, whatever the low-res check said.
 */
export const OUTPUT_AGREE_LIMIT = 24;

/**
 * Registration error (low-res pixels) the brightness check of a warped past allows for: the flow's own error and
 * the rounding to whole output pixels. Where the picture has a gradient g, that much misregistration changes the
 * luma by up to g × this, which is not counted as a mismatch.
 */
export const FLOW_SLACK = 0.25;

/** FLOW_SLACK × the 3×3 mean of |∇luma| (central differences), per pixel. */
function registrationSlack(luma: Uint8Array, w: number, h: number): Float32Array {
  const g = new Uint8Array(w * h);
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i++) {
      const gx = luma[y * w + Math.min(w - 1, x + 1)] - luma[y * w + Math.max(0, x - 1)];
      const gy = luma[Math.min(h - 1, y + 1) * w + x] - luma[Math.max(0, y - 1) * w + x];
      g[i] = Math.min(255, (Math.abs(gx) + Math.abs(gy)) / 2);
    }
  }
  const zero = new Uint8Array(w * h);
  const smoothed = smoothedAbsDiff(g, zero, w, h);
  for (let i = 0; i < smoothed.length; i++) smoothed[i] *= FLOW_SLACK;
  return smoothed;
}

export interface PastFrame {
  luma: Uint8Array;
  output: Uint8Array;
}

/** The state carried from one past frame to the next older one while following the chain of flows. */
interface Chain {
  dx: Float32Array;
  dy: Float32Array;
  ok: Uint8Array;
}

/**
 * Advances the chained displacement by one link (frame t−k+1 → t−k), sampling it where the chain has arrived.
 * Only inside `r`: outside it this link and all newer ones are zero, so the chain stays zero and ok there.
 */
function followLink(c: Chain, link: MotionLink, w: number, h: number, first: boolean, r: Rect): void {
  const { u, v } = link.back;
  const { dx, dy, ok } = c;
  const consistent = link.consistent;
  for (let y = r.y; y < r.y + r.h; y++) {
    for (let x = r.x, i = y * w + r.x; x < r.x + r.w; x++, i++) {
      const px = x + dx[i];
      const py = y + dy[i];
      const nx = Math.round(px);
      const ny = Math.round(py);
      if (nx < 0 || ny < 0 || nx >= w || ny >= h || !consistent[ny * w + nx]) ok[i] = 0;
      if (first) {
        dx[i] += u[i];
        dy[i] += v[i];
        continue;
      }
      // sampleBilinear() of u and of v at (px, py), the corners and fractions found once for both.
      const cx = Math.max(0, Math.min(px, w - 1));
      const cy = Math.max(0, Math.min(py, h - 1));
      const x0 = Math.floor(cx);
      const y0 = Math.floor(cy);
      const fx = cx - x0;
      const fy = cy - y0;
      const j00 = y0 * w + x0;
      const j01 = x0 < w - 1 ? j00 + 1 : j00;
      const j10 = y0 < h - 1 ? j00 + w : j00;
      const j11 = j10 + (j01 - j00);
      const ua = u[j00] + (u[j01] - u[j00]) * fx;
      const ub = u[j10] + (u[j11] - u[j10]) * fx;
      dx[i] += ua + (ub - ua) * fy;
      const va = v[j00] + (v[j01] - v[j00]) * fx;
      const vb = v[j10] + (v[j11] - v[j10]) * fx;
      dy[i] += va + (vb - va) * fy;
    }
  }
}

/**
 * Rounds the chain to whole output pixels and samples the past luma there; offsets whose block would leave the
 * output are marked not ok. Only inside `r`: outside it the chain is zero, the offsets are zero and the sample
 * is the past luma itself.
 */
function warpedLuma(c: Chain, past: Uint8Array, w: number, h: number, scale: number, r: Rect) {
  const ox = new Int32Array(w * h);
  const oy = new Int32Array(w * h);
  const luma = past.slice();
  const { dx, dy, ok } = c;
  for (let y = r.y; y < r.y + r.h; y++) {
    for (let x = r.x, i = y * w + r.x; x < r.x + r.w; x++, i++) {
      const qx = Math.round(dx[i] * scale);
      const qy = Math.round(dy[i] * scale);
      ox[i] = qx;
      oy[i] = qy;
      const bx = x * scale + qx;
      const by = y * scale + qy;
      if (bx < 0 || by < 0 || bx + scale > w * scale || by + scale > h * scale) ok[i] = 0;
      // sampleBilinear(past, w, h, x + qx / scale, y + qy / scale), inlined.
      const cx = Math.max(0, Math.min(x + qx / scale, w - 1));
      const cy = Math.max(0, Math.min(y + qy / scale, h - 1));
      const x0 = Math.floor(cx);
      const y0 = Math.floor(cy);
      const fx = cx - x0;
      const fy = cy - y0;
      const j00 = y0 * w + x0;
      const j01 = x0 < w - 1 ? j00 + 1 : j00;
      const j10 = y0 < h - 1 ? j00 + w : j00;
      const j11 = j10 + (j01 - j00);
      const a = past[j00] + (past[j01] - past[j00]) * fx;
      const b = past[j10] + (past[j11] - past[j10]) * fx;
      luma[i] = a + (b - a) * fy + 0.5;
    }
  }
  return { ox, oy, luma };
}

/** The bounding box of two rectangles (either may be undefined = empty). */
function unite(a: Rect | undefined, b: Rect | undefined): Rect | undefined {
  if (!a || !b) return a ?? b;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}

/**
 * Weights and offsets for each past frame (newest first). `links[k]` maps frame t−k onto t−k−1 (links[0] is the
 * current frame's). Weights are decay^k × the better hypothesis's static weight, eroded by one pixel, and never
 * larger than the previous (newer) frame's at the same pixel.
 */
export function warpedPasts(
  cur: Uint8Array,
  pasts: readonly PastFrame[],
  links: readonly MotionLink[],
  size: { width: number; height: number; scale: number },
  t: MaskThresholds & { decay: number },
): WarpedPast[] {
  const { width: w, height: h, scale } = size;
  const n = w * h;
  const chain: Chain = { dx: new Float32Array(n), dy: new Float32Array(n), ok: new Uint8Array(n).fill(1) };
  const out: WarpedPast[] = [];
  let cumulative: Float32Array | undefined;
  let decay = 1;
  // Where any link so far may move: outside it the chain is zero, so only "did not move" can apply there.
  let area: Rect | undefined;
  let slack: Float32Array | undefined;
  for (let k = 0; k < pasts.length && k < links.length; k++) {
    const still = weightsFromDiff(smoothedAbsDiff(cur, pasts[k].luma, w, h), t);
    area = unite(area, links[k].region);
    let hypothesis: Hypothesis = { weight: still, ox: new Int32Array(n), oy: new Int32Array(n) };
    if (area) {
      followLink(chain, links[k], w, h, k === 0, area);
      const warped = warpedLuma(chain, pasts[k].luma, w, h, scale, area);
      slack ??= registrationSlack(cur, w, h);
      hypothesis = betterHypothesis(cur, warped, still, chain.ok, { width: w, height: h, area, slack, t });
    }
    const eroded = erode3x3(hypothesis.weight, w, h);
    decay *= t.decay;
    const weighted = new Float32Array(n);
    if (cumulative)
      for (let i = 0; i < n; i++) {
        const e = Math.min(cumulative[i], eroded[i]);
        eroded[i] = e;
        weighted[i] = e * decay;
      }
    else for (let i = 0; i < n; i++) weighted[i] = eroded[i] * decay;
    cumulative = eroded;
    out.push({ weight: weighted, ox: hypothesis.ox, oy: hypothesis.oy, output: pasts[k].output });
  }
  return out;
}

interface Hypothesis {
  weight: Float32Array;
  ox: Int32Array;
  oy: Int32Array;
}

/**
 * Per pixel, "moved as the flow says" (the warped past's luma difference less the registration slack) where the
 * chain is ok, the offset is not zero and it fits better than "did not move"; else "did not move" with a zero
 * offset. Offsets can be non-zero only inside `area`, so only there is the warped past judged. Returns the weights
 * and offsets (the warped ones, zeroed where not used).
 */
function betterHypothesis(
  cur: Uint8Array,
  warped: { ox: Int32Array; oy: Int32Array; luma: Uint8Array },
  still: Float32Array,
  ok: Uint8Array,
  o: { width: number; height: number; area: Rect; slack: Float32Array; t: MaskThresholds },
): Hypothesis {
  const { width: w, area: r } = o;
  const { ox, oy } = warped;
  const movedDiff = smoothedAbsDiffIn(cur, warped.luma, w, o.height, r);
  const weight = Float32Array.from(still);
  for (let y = r.y; y < r.y + r.h; y++) {
    for (let i = y * w + r.x; i < y * w + r.x + r.w; i++) {
      if (ox[i] === 0 && oy[i] === 0) continue;
      // Rounded to float32 where the whole-frame arrays stored them, so the result is the same bytes.
      const d = Math.fround(Math.max(0, movedDiff[i] - o.slack[i]));
      const moved = Math.fround(weightOf(d, o.t));
      if (ok[i] === 1 && moved > still[i]) weight[i] = moved;
      else {
        ox[i] = 0;
        oy[i] = 0;
      }
    }
  }
  return { weight, ox, oy };
}

/**
 * Mean |raw − past| over the middle output row of one block (RGB), the past read at the block's offset: a
 * sample of the block is enough to catch a prediction that does not fit, at a fraction of the cost.
 */
function blockDisagreement(raw: Uint8Array, past: Uint8Array, base: number, src: number, rowBytes: number, s: number) {
  const a = base + (s >> 1) * rowBytes;
  const b = src + (s >> 1) * rowBytes;
  let sum = 0;
  for (let j = 0; j < s * 3; j++) sum += Math.abs(raw[a + j] - past[b + j]);
  return sum / (s * 3);
}

/**
 * The warped blend's plan (blend-plan.ts): per block, out = (raw + Σ wₖ·pastₖ(shifted)) / (1 + Σ wₖ), integer
 * scale. A warped past whose block disagrees with the new output (blockDisagreement) is left out of that block;
 * blocks with no usable past keep the model's bytes. `lazy`: rows are left to BlendPlan.planRow (the typed-array
 * path plans each row as it blends it).
 */
export function warpedPlan(
  raw: Uint8Array,
  pasts: readonly WarpedPast[],
  size: PlanSize,
  lazy = false,
  same?: Uint8Array,
): BlendPlan {
  const n = size.width * size.height;
  const plan: BlendPlan = {
    w0: new Float32Array(n),
    weights: pasts.map(() => new Float32Array(n)),
    shifts: pasts.map(() => new Int32Array(n)),
    pasts: pasts.map((q) => q.output),
    blocks: 0,
  };
  plan.planRow = (y) => planWarpedRow(raw, pasts, size, plan, y, same);
  plan.warped = { raw, pasts, same, agreeLimit: OUTPUT_AGREE_LIMIT };
  return lazy ? plan : completePlan({ plan, size });
}

/**
 * One low-res row of warpedPlan(). A block whose every used past is read in place from the first `same[p]` pasts
 * (the new output's own bytes there) keeps the model's bytes: blending would give them back.
 */
function planWarpedRow(
  raw: Uint8Array,
  pasts: readonly WarpedPast[],
  size: PlanSize,
  plan: BlendPlan,
  y: number,
  same?: Uint8Array,
) {
  const { width: w, scale: s } = size;
  const { w0, weights, shifts = [] } = plan;
  const m = pasts.length;
  const rowBytes = w * s * 3;
  const blockBytes = s * 3;
  for (let x = 0, p = y * w; x < w; x++, p++) {
    const base = y * s * rowBytes + x * blockBytes;
    let sum = 1;
    let own = true;
    for (let k = 0; k < m; k++) {
      const q = pasts[k];
      let use = q.weight[p];
      const o = q.oy[p] * rowBytes + q.ox[p] * 3;
      if (use > 0 && o !== 0 && blockDisagreement(raw, q.output, base, base + o, rowBytes, s) > OUTPUT_AGREE_LIMIT)
        use = 0;
      weights[k][p] = use;
      if (use > 0) shifts[k][p] = q.oy[p] * w * s + q.ox[p];
      if (use > 0 && (o !== 0 || !same || k >= same[p])) own = false;
      sum += use;
    }
    if (sum <= 1) continue;
    if (own) {
      for (let k = 0; k < m; k++) {
        weights[k][p] = 0;
        shifts[k][p] = 0;
      }
      continue;
    }
    plan.blocks++;
    w0[p] = 1 / sum;
    for (let k = 0; k < m; k++) weights[k][p] /= sum;
  }
}
