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
 * time: each source is added to a float row in its own tight loop (monomorphic, so the JIT keeps it fast); rows and
 * sources with nothing to blend are skipped.
 */
export function blendOnCpu(raw: Uint8Array, plan: BlendPlan, out: Uint8Array, size: PlanSize): void {
  const { width: w, height: h, scale: s } = size;
  const m = plan.weights.length;
  const rowBytes = w * s * 3;
  const blockBytes = s * 3;
  const acc = new Float32Array(rowBytes);
  // One low-res row of the plan at a time, copied into small arrays the inner loops read.
  const w0 = new Float32Array(w);
  const wk = Array.from({ length: m }, () => new Float32Array(w));
  const offsets = Array.from({ length: m }, () => new Int32Array(w));
  const rowUses = new Uint8Array(m);
  const { planRow } = plan;
  plan.planRow = undefined;
  for (let y = 0; y < h; y++) {
    planRow?.(y);
    const first = y * w;
    let any = false;
    for (let x = 0; x < w; x++) {
      w0[x] = plan.w0[first + x];
      if (w0[x] !== 0) any = true;
    }
    if (!any) continue;
    for (let k = 0; k < m; k++) rowUses[k] = rowOfPlan(plan, k, first, wk[k], offsets[k]);
    for (let dy = 0; dy < s; dy++) {
      const row = (y * s + dy) * rowBytes;
      for (let x = 0; x < w; x++) {
        const norm = w0[x];
        if (norm === 0) continue;
        for (let j = x * blockBytes; j < (x + 1) * blockBytes; j++) acc[j] = norm * raw[row + j];
      }
      for (let k = 0; k < m; k++) if (rowUses[k]) addShiftedRow(acc, plan.pasts[k], row, wk[k], offsets[k], blockBytes);
      for (let x = 0; x < w; x++) {
        if (w0[x] === 0) continue;
        for (let j = x * blockBytes; j < (x + 1) * blockBytes; j++) out[row + j] = acc[j] + 0.5;
      }
    }
  }
}

/** Past frame k's weights and byte offsets for the low-res row starting at `first`; 1 if any weight is not 0. */
function rowOfPlan(plan: BlendPlan, k: number, first: number, weight: Float32Array, offset: Int32Array): number {
  const src = plan.weights[k];
  const shift = plan.shifts?.[k];
  let uses = 0;
  for (let x = 0; x < weight.length; x++) {
    weight[x] = src[first + x];
    if (weight[x] !== 0) uses = 1;
    offset[x] = shift ? shift[first + x] * 3 : 0;
  }
  return uses;
}

/**
 * acc += weight[block] × src[row + j + offset[block]] over one output row; blocks of weight 0 are skipped (each
 * source in its own tight loop, so the JIT keeps it monomorphic and fast).
 */
function addShiftedRow(
  acc: Float32Array,
  src: Uint8Array,
  row: number,
  weight: Float32Array,
  offset: Int32Array,
  blockBytes: number,
): void {
  for (let x = 0, j = 0; x < weight.length; x++) {
    const wt = weight[x];
    const end = j + blockBytes;
    if (wt === 0) {
      j = end;
      continue;
    }
    const from = row + offset[x];
    for (; j < end; j++) acc[j] += wt * src[from + j];
  }
}
