import { type MaskThresholds, staticWeights } from './change-mask';

/**
 * The temporal blend split in two: what is decided per low-res pixel (weights, and with motion where each past is
 * read), a `BlendPlan`, and what runs per output pixel, which carries the plan out. The plan is made in TypeScript
 * (temporal-stage.ts, motion-blend.ts); blendOnCpu() below carries it out with typed arrays, blend-graph.ts as an
 * ONNX graph on the model's execution provider. Both compute, per output byte of a blended block,
 * acc = w0·raw, then acc += wₖ·pastₖ for each past frame in order (float32 accumulator), out = ⌊acc + 0.5⌋.
 */
export interface BlendPlan {
  /** Per low-res pixel, the new output's normalised weight; 0 = the block keeps the model's bytes. */
  w0: Float32Array;
  /** Per past frame (newest first), per low-res pixel, its normalised weight. */
  weights: Float32Array[];
  /**
   * Per past frame, per low-res pixel, where its block is read from: the offset in output pixels (row-major,
   * oy·outputWidth + ox), 0 where the weight is 0. Absent = every block in place (the static blend).
   */
  shifts?: Int32Array[];
  /** The past raw outputs, packed rgb24, the same size as the new one. */
  pasts: Uint8Array[];
  /** Low-res pixels (blocks) whose output is blended (w0 ≠ 0), in the rows planned so far. */
  blocks: number;
  /**
   * Rows not planned yet: planRow(y) fills low-res row y (and adds to `blocks`). The typed-array path plans each row
   * just before it blends it, while that row's pixels are still in cache; completePlan() fills all. Absent = done.
   */
  planRow?: (y: number) => void;
  /**
   * What planRow plans from, where it is the motion blend's (motion-blend.ts warpedPlan()): a planner that holds the
   * frames (blend-simd.ts) plans every row from it itself, with the same numbers.
   */
  warped?: WarpedRows;
  /** What planRow plans from, where it is the static blend's (stillPlan()): likewise. */
  still?: StillRows;
}

/** The static blend's inputs: the current luma and each past's (newest first), the masks' thresholds and decay. */
export interface StillRows {
  cur: Uint8Array;
  lumas: readonly Uint8Array[];
  t: MaskThresholds & { decay: number };
  /** Per low-res pixel, how many newest pasts are the new output's own bytes in place (absent: none). */
  same?: Uint8Array;
}

/** The motion blend's per-block inputs: the new output, each past's weight and whole-output-pixel offset. */
export interface WarpedRows {
  raw: Uint8Array;
  pasts: readonly { weight: Float32Array; ox: Int32Array; oy: Int32Array }[];
  /** Per low-res pixel, how many newest pasts are the new output's own bytes in place (absent: none). */
  same?: Uint8Array;
  /** A past whose block disagrees with the new output by more than this mean (levels) is left out of it. */
  agreeLimit: number;
}

/** The low-res frame and the integer scale a plan is for (output = width·scale × height·scale, rgb24). */
export interface PlanSize {
  width: number;
  height: number;
  scale: number;
}

/**
 * The static blend's plan: per low-res pixel, new output weight 1 and past weights as given (decayᵏ × static),
 * normalised by their sum; pixels with no static past keep the model's bytes, and so do those whose every
 * weighted past is the new output's own bytes (`same`: per pixel, how many newest pasts are; temporal-stage.ts sameDepth()).
 */
export function staticPlan(pasts: Uint8Array[], weights: Float32Array[], pixels: number, same?: Uint8Array): BlendPlan {
  const m = weights.length;
  const w0 = new Float32Array(pixels);
  const normalised = weights.map(() => new Float32Array(pixels));
  let blocks = 0;
  for (let p = 0; p < pixels; p++) {
    let sum = 1;
    let last = -1;
    for (let k = 0; k < m; k++) {
      sum += weights[k][p];
      if (weights[k][p] > 0) last = k;
    }
    if (sum <= 1 || (same && last < same[p])) continue;
    const norm = 1 / sum;
    w0[p] = norm;
    for (let k = 0; k < m; k++) normalised[k][p] = weights[k][p] * norm;
    blocks++;
  }
  return { w0, weights: normalised, pasts, blocks };
}

/**
 * Per past frame k (newest first), per low-res pixel: decayᵏ × its static weight (change-mask.ts staticWeights),
 * never above the newer frame's (static since frame t−k).
 */
export function stillWeights(
  cur: Uint8Array,
  lumas: readonly Uint8Array[],
  width: number,
  height: number,
  t: MaskThresholds & { decay: number },
): Float32Array[] {
  const weights: Float32Array[] = [];
  let cumulative: Float32Array | undefined;
  let w = 1;
  for (const luma of lumas) {
    const s = staticWeights(cur, luma, width, height, t);
    if (cumulative) for (let i = 0; i < s.length; i++) if (cumulative[i] < s[i]) s[i] = cumulative[i];
    cumulative = s;
    w *= t.decay;
    const wk = new Float32Array(s.length);
    for (let i = 0; i < s.length; i++) wk[i] = w * s[i];
    weights.push(wk);
  }
  return weights;
}

/**
 * The static blend's plan (stillWeights(), then staticPlan()), made when its first row is asked for: its weights
 * need the rows around each pixel, so the whole plan is made then (BlendPlan.planRow; a planner that holds the frames
 * makes it from `still` instead).
 */
export function stillPlan(still: StillRows, pasts: Uint8Array[], size: PlanSize): BlendPlan {
  const n = size.width * size.height;
  const plan: BlendPlan = {
    w0: new Float32Array(n),
    weights: pasts.map(() => new Float32Array(n)),
    pasts,
    blocks: 0,
    still,
  };
  let made = false;
  plan.planRow = () => {
    if (made) return;
    made = true;
    const weights = stillWeights(still.cur, still.lumas, size.width, size.height, still.t);
    const whole = staticPlan(pasts, weights, n, still.same);
    // In place: blendOnCpu() holds the plan's arrays.
    plan.w0.set(whole.w0);
    for (let k = 0; k < pasts.length; k++) plan.weights[k].set(whole.weights[k]);
    plan.blocks += whole.blocks;
  };
  return plan;
}

/** A frame's blend as decided on the low-res input (TemporalStage.plan()), not carried out yet. */
export interface PlannedBlend {
  plan: BlendPlan;
  size: PlanSize;
}

/** The plan with every row planned (see BlendPlan.planRow). */
export function completePlan({ plan, size }: PlannedBlend): BlendPlan {
  const { planRow } = plan;
  plan.planRow = undefined;
  if (planRow) for (let y = 0; y < size.height; y++) planRow(y);
  return plan;
}

/** Carries a planned blend out with typed arrays: a new buffer (raw itself where no block is blended). */
export function blendPlannedOnCpu(raw: Uint8Array, { plan, size }: PlannedBlend): Uint8Array {
  if (plan.blocks === 0 && !plan.planRow) return raw;
  const out = Buffer.allocUnsafeSlow(raw.length);
  out.set(raw);
  blendOnCpu(raw, plan, out, size);
  return plan.blocks > 0 ? out : raw;
}

/**
 * Carries a plan out on the CPU into `out` (which holds the model's bytes already), one low-res row of blocks at a
 * time. Per blended block, the pasts it uses (weight ≠ 0, in order) are gathered once; then each byte's float32
 * accumulator is kept in a local (Math.fround after each step: the same float32 roundings as a Float32Array would
 * make), so each byte is read and written once. Rows with nothing to blend are skipped.
 */
export function blendOnCpu(raw: Uint8Array, plan: BlendPlan, out: Uint8Array, size: PlanSize): void {
  const { width: w, height: h, scale: s } = size;
  const m = plan.weights.length;
  const rowBytes = w * s * 3;
  const blockBytes = s * 3;
  // One block's pasts: their weights, sources and byte offsets (only those with weight ≠ 0).
  const bw = new Float64Array(m);
  const bo = new Int32Array(m);
  const bs: Uint8Array[] = new Array(m).fill(raw);
  const { planRow, weights, shifts, pasts } = plan;
  plan.planRow = undefined;
  for (let y = 0; y < h; y++) {
    planRow?.(y);
    const first = y * w;
    for (let x = 0, p = first; x < w; x++, p++) {
      const norm = plan.w0[p];
      if (norm === 0) continue;
      let used = 0;
      for (let k = 0; k < m; k++) {
        const wt = weights[k][p];
        if (wt === 0) continue;
        bw[used] = wt;
        bo[used] = shifts ? shifts[k][p] * 3 : 0;
        bs[used++] = pasts[k];
      }
      const start = y * s * rowBytes + x * blockBytes;
      if (used === 1) blendBlock1(raw, out, start, rowBytes, s, norm, bw[0], bs[0], bo[0]);
      else if (used === 2) blendBlock2(raw, out, start, rowBytes, s, norm, bw, bs, bo);
      else if (used === 3) blendBlock3(raw, out, start, rowBytes, s, norm, bw, bs, bo);
      else blendBlock(raw, out, start, rowBytes, s, norm, used, bw, bs, bo);
    }
  }
}

/** One block with one past: out = ⌊fround(fround(norm·raw) + w·past) + 0.5⌋. */
function blendBlock1(
  raw: Uint8Array,
  out: Uint8Array,
  start: number,
  rowBytes: number,
  s: number,
  norm: number,
  w1: number,
  p1: Uint8Array,
  o1: number,
): void {
  for (let dy = 0, from = start; dy < s; dy++, from += rowBytes) {
    const end = from + s * 3;
    for (let j = from; j < end; j++) out[j] = Math.fround(Math.fround(norm * raw[j]) + w1 * p1[j + o1]) + 0.5;
  }
}

/** One block with two pasts, unrolled. */
function blendBlock2(
  raw: Uint8Array,
  out: Uint8Array,
  start: number,
  rowBytes: number,
  s: number,
  norm: number,
  bw: Float64Array,
  bs: Uint8Array[],
  bo: Int32Array,
): void {
  const w1 = bw[0];
  const w2 = bw[1];
  const p1 = bs[0];
  const p2 = bs[1];
  const o1 = bo[0];
  const o2 = bo[1];
  for (let dy = 0, from = start; dy < s; dy++, from += rowBytes) {
    const end = from + s * 3;
    for (let j = from; j < end; j++)
      out[j] = Math.fround(Math.fround(Math.fround(norm * raw[j]) + w1 * p1[j + o1]) + w2 * p2[j + o2]) + 0.5;
  }
}

/** One block with three pasts (medium's window), unrolled. */
function blendBlock3(
  raw: Uint8Array,
  out: Uint8Array,
  start: number,
  rowBytes: number,
  s: number,
  norm: number,
  bw: Float64Array,
  bs: Uint8Array[],
  bo: Int32Array,
): void {
  const w1 = bw[0];
  const w2 = bw[1];
  const w3 = bw[2];
  const p1 = bs[0];
  const p2 = bs[1];
  const p3 = bs[2];
  const o1 = bo[0];
  const o2 = bo[1];
  const o3 = bo[2];
  for (let dy = 0, from = start; dy < s; dy++, from += rowBytes) {
    const end = from + s * 3;
    for (let j = from; j < end; j++) {
      const a = Math.fround(Math.fround(norm * raw[j]) + w1 * p1[j + o1]);
      out[j] = Math.fround(Math.fround(a + w2 * p2[j + o2]) + w3 * p3[j + o3]) + 0.5;
    }
  }
}

/** One block with `used` pasts, added in order (float32 accumulator). */
function blendBlock(
  raw: Uint8Array,
  out: Uint8Array,
  start: number,
  rowBytes: number,
  s: number,
  norm: number,
  used: number,
  bw: Float64Array,
  bs: Uint8Array[],
  bo: Int32Array,
): void {
  for (let dy = 0, from = start; dy < s; dy++, from += rowBytes) {
    const end = from + s * 3;
    for (let j = from; j < end; j++) {
      let a = Math.fround(norm * raw[j]);
      for (let k = 0; k < used; k++) a = Math.fround(a + bw[k] * bs[k][j + bo[k]]);
      out[j] = a + 0.5;
    }
  }
}
