// AssemblyScript: the temporal stage's per-pixel kernels, compiled by `npm run build:wasm` into
// src/engine/temporal/temporal-wasm.ts. Each computes what its TypeScript original computes, to the bit:
// - blendBlocks: the per-output-pixel blend (blend-plan.ts blendOnCpu()), in SIMD. Per output byte of a blended
//   block: a = fround(norm·raw); a = fround(a + wₖ·pastₖ[j + oₖ]) for each past with a weight, in order;
//   out = ⌊a + 0.5⌋. Two f64 lanes: every product of a float32 weight and a byte is exact in f64, and each sum is
//   rounded to f64 and then to f32 exactly as the typed-array code's Math.fround(… + …) does.
// - planWarped: the motion blend's rows (motion-blend.ts planWarpedRow()).
// - blendWarped: both in one pass, the plan never written out (the blend pool's threads, blend-pool.ts).
// - warpedPasts: the motion blend's low-res plan (motion-blend.ts warpedPasts()), scalar f64.

/**
 * A thread's scratch (512 bytes, blend-simd.ts SCRATCH_SLOT): the block's pasts, gathered once — f64 weights at 0, u32
 * source addresses (past + shift) at 128 — and the motion plan's per-block numbers (blockUses()): each past's use
 * (f64) at USES, its byte offset at OFFSETS, whether the block keeps the model's bytes (i32) at OWN.
 */
const MAX_PASTS: i32 = 16;
const USES: usize = 256;
const OFFSETS: usize = 384;
const OWN: usize = 448;

@inline function widen(p: usize): v128 {
  // 4 bytes at p → i32x4
  return i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(p)));
}
@inline function lo(q: v128): v128 {
  return f64x2.convert_low_i32x4_u(q);
}
@inline function hi(q: v128): v128 {
  return f64x2.convert_low_i32x4_u(i32x4.shuffle(q, q, 2, 3, 0, 1));
}
/** Math.fround of both lanes. */
@inline function fr(a: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(a));
}
/** ⌊a + 0.5⌋, ⌊b + 0.5⌋ of four lanes, stored as four bytes at p. */
@inline function store4(p: usize, a: v128, b: v128): void {
  const half = f64x2.splat(0.5);
  const ia = i32x4.trunc_sat_f64x2_u_zero(f64x2.add(a, half));
  const ib = i32x4.trunc_sat_f64x2_u_zero(f64x2.add(b, half));
  const i4 = i32x4.shuffle(ia, ib, 0, 1, 4, 5);
  const h = i16x8.narrow_i32x4_u(i4, i4);
  v128.store32_lane(p, i8x16.narrow_i16x8_u(h, h), 0);
}

/** One row of a block with three pasts (the default window), the weights in registers. */
@inline function row3(raw: usize, out: usize, from: usize, bytes: usize, norm: f64, scratch: usize): usize {
  const vn = f64x2.splat(norm);
  const w1 = f64x2.splat(load<f64>(scratch));
  const w2 = f64x2.splat(load<f64>(scratch, 8));
  const w3 = f64x2.splat(load<f64>(scratch, 16));
  const s1 = <usize>load<u32>(scratch, 128) + from;
  const s2 = <usize>load<u32>(scratch, 132) + from;
  const s3 = <usize>load<u32>(scratch, 136) + from;
  let j: usize = 0;
  for (; j + 4 <= bytes; j += 4) {
    const r = widen(raw + from + j);
    const q1 = widen(s1 + j);
    const q2 = widen(s2 + j);
    const q3 = widen(s3 + j);
    let a = fr(f64x2.mul(vn, lo(r)));
    let b = fr(f64x2.mul(vn, hi(r)));
    a = fr(f64x2.add(a, f64x2.mul(w1, lo(q1))));
    b = fr(f64x2.add(b, f64x2.mul(w1, hi(q1))));
    a = fr(f64x2.add(a, f64x2.mul(w2, lo(q2))));
    b = fr(f64x2.add(b, f64x2.mul(w2, hi(q2))));
    a = fr(f64x2.add(a, f64x2.mul(w3, lo(q3))));
    b = fr(f64x2.add(b, f64x2.mul(w3, hi(q3))));
    store4(out + from + j, a, b);
  }
  return j;
}

/** One row of a block with `used` pasts, four bytes at a time (returns how far it got). */
@inline function rowN(raw: usize, out: usize, from: usize, bytes: usize, norm: f64, used: i32, scratch: usize): usize {
  const vn = f64x2.splat(norm);
  let j: usize = 0;
  for (; j + 4 <= bytes; j += 4) {
    const r = widen(raw + from + j);
    let a = fr(f64x2.mul(vn, lo(r)));
    let b = fr(f64x2.mul(vn, hi(r)));
    for (let k = 0; k < used; k++) {
      const wk = f64x2.splat(load<f64>(scratch + (<usize>k << 3)));
      const q = widen(<usize>load<u32>(scratch + 128 + (<usize>k << 2)) + from + j);
      a = fr(f64x2.add(a, f64x2.mul(wk, lo(q))));
      b = fr(f64x2.add(b, f64x2.mul(wk, hi(q))));
    }
    store4(out + from + j, a, b);
  }
  return j;
}

/** The bytes of a row from j on, one at a time (block rows whose length is not a multiple of four). */
@inline function tail(raw: usize, out: usize, from: usize, j: usize, bytes: usize, norm: f64, used: i32, scratch: usize): void {
  for (; j < bytes; j++) {
    let a = <f64>(<f32>(norm * <f64>load<u8>(raw + from + j)));
    for (let k = 0; k < used; k++) {
      const src = <usize>load<u32>(scratch + 128 + (<usize>k << 2)) + from + j;
      a = <f64>(<f32>(a + load<f64>(scratch + (<usize>k << 3)) * <f64>load<u8>(src)));
    }
    store<u8>(out + from + j, <u8>(<i32>(a + 0.5)));
  }
}

/**
 * Rows y0 ≤ y < y1 of blocks: raw's bytes copied into `out`, then every block whose w0 ≠ 0 blended there. Frames
 * are rgb24, (w·s) × (h·s); w0: f32 per block; weights: `m` f32 planes of w·h; shifts: `m` i32 planes (output
 * pixels, oy·w·s + ox) or 0 for none; pasts: `m` u32 addresses; scratch: 512 bytes of the caller's own. Returns the
 * blocks blended. At most MAX_PASTS pasts. Bands of rows are independent (each reads the pasts anywhere and writes
 * only its own rows of `out`): threads on one shared memory may each take one (blend-pool.ts).
 */
export function blendBlocks(
  raw: usize,
  out: usize,
  w: i32,
  h: i32,
  s: i32,
  w0: usize,
  m: i32,
  weights: usize,
  shifts: usize,
  pasts: usize,
  scratch: usize,
  y0: i32,
  y1: i32,
): i32 {
  if (m > MAX_PASTS) return -1;
  const plane = <usize>w * <usize>h;
  const rowBytes = <usize>w * <usize>s * 3;
  const blockBytes = <usize>s * 3;
  copyBand(raw, out, y0, y1, s, rowBytes);
  let blocks = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < w; x++) {
      const p = <usize>y * <usize>w + <usize>x;
      const norm = <f64>load<f32>(w0 + (p << 2));
      if (norm == 0) continue;
      blocks++;
      let used = 0;
      for (let k = 0; k < m; k++) {
        const wt = load<f32>(weights + ((<usize>k * plane + p) << 2));
        if (wt == 0) continue;
        const o: i32 = shifts != 0 ? load<i32>(shifts + ((<usize>k * plane + p) << 2)) * 3 : 0;
        store<f64>(scratch + (<usize>used << 3), <f64>wt);
        store<u32>(scratch + 128 + (<usize>used << 2), load<u32>(pasts + (<usize>k << 2)) + <u32>o);
        used++;
      }
      blendBlock(raw, out, <usize>y * <usize>s * rowBytes + <usize>x * blockBytes, rowBytes, s, norm, used, scratch);
    }
  }
  return blocks;
}

/** The output rows of block rows y0 ≤ y < y1 (s output rows each) copied from raw into out. */
@inline function copyBand(raw: usize, out: usize, y0: i32, y1: i32, s: i32, rowBytes: usize): void {
  const at = <usize>y0 * <usize>s * rowBytes;
  memory.copy(out + at, raw + at, <usize>(y1 - y0) * <usize>s * rowBytes);
}

/** A block's s rows (starting at byte `start`) blended into `out`, its `used` pasts gathered in the scratch. */
@inline function blendBlock(raw: usize, out: usize, start: usize, rowBytes: usize, s: i32, norm: f64, used: i32, scratch: usize): void {
  const blockBytes = <usize>s * 3;
  for (let dy = 0; dy < s; dy++) {
    const from = start + <usize>dy * rowBytes;
    const j = used == 3 ? row3(raw, out, from, blockBytes, norm, scratch) : rowN(raw, out, from, blockBytes, norm, used, scratch);
    tail(raw, out, from, j, blockBytes, norm, used, scratch);
  }
}

/** The sum of the sixteen bytes' |a − b| (u8 lanes), widened so no lane overflows. */
@inline function absDiffSum(a: v128, b: v128): i32 {
  const d = v128.or(i8x16.sub_sat_u(a, b), i8x16.sub_sat_u(b, a));
  const q = i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(d));
  return i32x4.extract_lane(q, 0) + i32x4.extract_lane(q, 1) + i32x4.extract_lane(q, 2) + i32x4.extract_lane(q, 3);
}

/**
 * Mean |raw − past| over the middle output row of one block (motion-blend.ts blockDisagreement()): the same integer
 * sum, 16 bytes at a time, then 8 and 4 (zero-extended loads: nothing is read past the row's bytes), then one by one.
 */
@inline function disagreement(raw: usize, past: usize, base: usize, src: usize, rowBytes: usize, s: i32): f64 {
  const a = raw + base + (<usize>(s >> 1)) * rowBytes;
  const b = past + src + (<usize>(s >> 1)) * rowBytes;
  const bytes = <usize>s * 3;
  let sum: i32 = 0;
  let j: usize = 0;
  for (; j + 16 <= bytes; j += 16) sum += absDiffSum(v128.load(a + j), v128.load(b + j));
  if (j + 8 <= bytes) {
    sum += absDiffSum(v128.load64_zero(a + j), v128.load64_zero(b + j));
    j += 8;
  }
  if (j + 4 <= bytes) {
    sum += absDiffSum(v128.load32_zero(a + j), v128.load32_zero(b + j));
    j += 4;
  }
  for (; j < bytes; j++) sum += abs<i32>(<i32>load<u8>(a + j) - <i32>load<u8>(b + j));
  return <f64>sum / <f64>bytes;
}

/**
 * The warped blend's plan (motion-blend.ts planWarpedRow()) for rows y0 ≤ y < y1: per block and past, its weight
 * unless the past read at its offset disagrees with the new output (mean > agreeLimit), the offset where it is used,
 * the weights normalised; a block whose every used past is its own bytes in place (`same`) keeps the model's.
 * Inputs: `m` f32 weight planes, i32 ox and oy planes, a u8 `same` plane or 0. Outputs (this band's rows): w0, m
 * weight planes, m shift planes (w0's and the shifts' zeroed first); scratch: the caller's own. Returns the band's
 * blocks to blend. Bands are independent, as blendBlocks()'s.
 */
export function planWarped(
  raw: usize,
  w: i32,
  h: i32,
  s: i32,
  m: i32,
  pasts: usize,
  inWeights: usize,
  inOx: usize,
  inOy: usize,
  same: usize,
  agreeLimit: f64,
  w0: usize,
  weights: usize,
  shifts: usize,
  scratch: usize,
  y0: i32,
  y1: i32,
): i32 {
  const plane = <usize>w * <usize>h;
  const rowBytes = <usize>w * <usize>s * 3;
  const blockBytes = <usize>s * 3;
  // This band's rows of w0 and the shift planes start zeroed: they are written only where used (every weight is).
  const first = <usize>y0 * <usize>w;
  const bandBytes = (<usize>(y1 - y0) * <usize>w) << 2;
  memory.fill(w0 + (first << 2), 0, bandBytes);
  for (let k = 0; k < m; k++) memory.fill(shifts + ((<usize>k * plane + first) << 2), 0, bandBytes);
  let blocks = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < w; x++) {
      const p = <usize>y * <usize>w + <usize>x;
      const base = <usize>y * <usize>s * rowBytes + <usize>x * blockBytes;
      const sum = blockUses(raw, p, base, plane, m, pasts, inWeights, inOx, inOy, same, agreeLimit, rowBytes, s, scratch);
      for (let k = 0; k < m; k++) {
        const at = (<usize>k * plane + p) << 2;
        const use = load<f64>(scratch + USES + (<usize>k << 3));
        store<f32>(weights + at, <f32>use);
        if (use > 0) store<i32>(shifts + at, load<i32>(inOy + at) * w * s + load<i32>(inOx + at));
      }
      if (sum <= 1) continue;
      if (load<i32>(scratch + OWN) != 0) {
        for (let k = 0; k < m; k++) {
          const at = (<usize>k * plane + p) << 2;
          store<f32>(weights + at, 0);
          store<i32>(shifts + at, 0);
        }
        continue;
      }
      blocks++;
      store<f32>(w0 + (p << 2), <f32>(1 / sum));
      for (let k = 0; k < m; k++) {
        const at = weights + ((<usize>k * plane + p) << 2);
        store<f32>(at, <f32>(<f64>load<f32>(at) / sum));
      }
    }
  }
  return blocks;
}

/**
 * One block's uses of its warped pasts (planWarpedRow()'s numbers): per past its weight, or 0 where the past read at
 * its offset disagrees with the new output, stored (f64) at scratch + USES, and the byte offset where it is read (0
 * where it is not used) at scratch + OFFSETS; at scratch + OWN 1 where every used past is the output's own bytes in
 * place (`same`), else 0. Returns 1 + the uses' sum.
 */
@inline function blockUses(
  raw: usize,
  p: usize,
  base: usize,
  plane: usize,
  m: i32,
  pasts: usize,
  inWeights: usize,
  inOx: usize,
  inOy: usize,
  same: usize,
  agreeLimit: f64,
  rowBytes: usize,
  s: i32,
  scratch: usize,
): f64 {
  let sum: f64 = 1;
  let own = true;
  for (let k = 0; k < m; k++) {
    const at = (<usize>k * plane + p) << 2;
    let use = <f64>load<f32>(inWeights + at);
    const o = load<i32>(inOy + at) * <i32>rowBytes + load<i32>(inOx + at) * 3;
    const past = <usize>load<u32>(pasts + (<usize>k << 2));
    if (use > 0 && o != 0 && disagreement(raw, past, base, base + <usize>o, rowBytes, s) > agreeLimit) use = 0;
    store<f64>(scratch + USES + (<usize>k << 3), use);
    store<i32>(scratch + OFFSETS + (<usize>k << 2), use > 0 ? o : 0);
    if (use > 0 && (o != 0 || same == 0 || k >= <i32>load<u8>(same + p))) own = false;
    sum += use;
  }
  store<i32>(scratch + OWN, own ? 1 : 0);
  return sum;
}

/**
 * planWarped() and blendBlocks() in one pass over rows y0 ≤ y < y1, the plan never written out: per block its uses
 * (blockUses()), then, where it is blended, its normalised weights (the f32 values planWarped() would store, so the
 * bytes blendBlocks() would write) and its rows blended. A block's reads for its plan are the rows its blend reads
 * next (one pass over the frames instead of two). `out` starts as raw's bytes for the band. Returns the blocks
 * blended; bands are independent, as blendBlocks()'s.
 */
export function blendWarped(
  raw: usize,
  out: usize,
  w: i32,
  h: i32,
  s: i32,
  m: i32,
  pasts: usize,
  inWeights: usize,
  inOx: usize,
  inOy: usize,
  same: usize,
  agreeLimit: f64,
  scratch: usize,
  y0: i32,
  y1: i32,
): i32 {
  if (m > MAX_PASTS) return -1;
  const plane = <usize>w * <usize>h;
  const rowBytes = <usize>w * <usize>s * 3;
  const blockBytes = <usize>s * 3;
  copyBand(raw, out, y0, y1, s, rowBytes);
  let blocks = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < w; x++) {
      const p = <usize>y * <usize>w + <usize>x;
      const base = <usize>y * <usize>s * rowBytes + <usize>x * blockBytes;
      const sum = blockUses(raw, p, base, plane, m, pasts, inWeights, inOx, inOy, same, agreeLimit, rowBytes, s, scratch);
      if (sum <= 1 || load<i32>(scratch + OWN) != 0) continue;
      blocks++;
      let used = 0;
      for (let k = 0; k < m; k++) {
        const wt = <f32>(load<f64>(scratch + USES + (<usize>k << 3)) / sum);
        if (wt == 0) continue;
        const o = load<i32>(scratch + OFFSETS + (<usize>k << 2));
        store<f64>(scratch + (<usize>used << 3), <f64>wt);
        store<u32>(scratch + 128 + (<usize>used << 2), load<u32>(pasts + (<usize>k << 2)) + <u32>o);
        used++;
      }
      blendBlock(raw, out, base, rowBytes, s, <f64>(<f32>(1 / sum)), used, scratch);
    }
  }
  return blocks;
}

// ---------------------------------------------------------------------------------------------------------------
// The motion blend's low-res plan (motion-blend.ts warpedPasts() and change-mask.ts's helpers), scalar f64 with the
// same roundings: every value a Float32Array held there is stored as f32 here, every Uint8Array value truncated.

/**
 * JS Math.round: the nearest integer, ties toward +∞ (f64.nearest rounds ties to even). Without a branch: the
 * fraction x − ⌊x⌋ is exact and random, so a branch on it is mispredicted half the time. (Only the sign of a zero
 * result can differ from Math.round's, and every caller compares it or converts it to an integer.)
 */
@inline function jsRound(x: f64): f64 {
  const r = Math.floor(x);
  return r + <f64>(<i32>(x - r >= 0.5));
}

// f64x2 helpers for planes of f32: each f32 is widened to f64, computed as the scalar code does, rounded back.
/** Lanes 0, 1 of an f32x4 as f64x2. */
@inline function f32lo(q: v128): v128 {
  return f64x2.promote_low_f32x4(q);
}
/** Lanes 2, 3 of an f32x4 as f64x2. */
@inline function f32hi(q: v128): v128 {
  return f64x2.promote_low_f32x4(i32x4.shuffle(q, q, 2, 3, 0, 1));
}
/** Two f64x2 rounded to f32, as one f32x4 (a's lanes first). */
@inline function f32of(a: v128, b: v128): v128 {
  return i32x4.shuffle(f32x4.demote_f64x2_zero(a), f32x4.demote_f64x2_zero(b), 0, 1, 4, 5);
}
/** weightOf() of two f64 lanes: max(0, min(1, (movingAbove − d) / span)), with f64.min/max's semantics. */
@inline function weightOf2(d: v128, movingAbove: v128, span: v128): v128 {
  return f64x2.max(f64x2.splat(0), f64x2.min(f64x2.splat(1), f64x2.div(f64x2.sub(movingAbove, d), span)));
}

/** |a[i] − b[i]| of two byte planes. */
@inline function ad(a: usize, b: usize, i: i32): f64 {
  return <f64>abs<i32>(<i32>load<u8>(a + <usize>i) - <i32>load<u8>(b + <usize>i));
}

/** plane[i] of an f32 plane, as f64. */
@inline function lf(plane: usize, i: i32): f64 {
  return <f64>load<f32>(plane + (<usize>i << 2));
}

/** change-mask.ts rowMeans(): the mean |a − b| over x−1..x+1 (clipped) of one row, for x in [x0, x1). */
function rowMeans(a: usize, b: usize, row: i32, width: i32, x0: i32, x1: i32, rows: usize): void {
  if (width == 1) {
    store<f32>(rows + (<usize>row << 2), <f32>ad(a, b, row));
    return;
  }
  let x = x0;
  if (x == 0) {
    store<f32>(rows + (<usize>row << 2), <f32>((ad(a, b, row) + ad(a, b, row + 1)) / 2));
    x++;
  }
  const end = min<i32>(x1, width - 1);
  if (x < end) {
    let i = row + x;
    // Eight at a time: the sums of three whole numbers are exact in i16, then ÷ 3 in f64 as the scalar loop.
    const three = f64x2.splat(3);
    for (; i + 8 <= row + end; i += 8) {
      const p = <usize>i;
      const l = i16x8.abs(i16x8.sub(v128.load8x8_u(a + p - 1), v128.load8x8_u(b + p - 1)));
      const c = i16x8.abs(i16x8.sub(v128.load8x8_u(a + p), v128.load8x8_u(b + p)));
      const r = i16x8.abs(i16x8.sub(v128.load8x8_u(a + p + 1), v128.load8x8_u(b + p + 1)));
      const sum = i16x8.add(i16x8.add(l, c), r);
      const s0 = i32x4.extend_low_i16x8_u(sum);
      const s1 = i32x4.extend_high_i16x8_u(sum);
      const q0 = f64x2.div(f64x2.convert_low_i32x4_u(s0), three);
      const q1 = f64x2.div(f64x2.convert_low_i32x4_u(i32x4.shuffle(s0, s0, 2, 3, 0, 1)), three);
      const q2 = f64x2.div(f64x2.convert_low_i32x4_u(s1), three);
      const q3 = f64x2.div(f64x2.convert_low_i32x4_u(i32x4.shuffle(s1, s1, 2, 3, 0, 1)), three);
      v128.store(rows + (p << 2), f32of(q0, q1));
      v128.store(rows + (p << 2), f32of(q2, q3), 16);
    }
    if (i < row + end) {
      let left = ad(a, b, i - 1);
      let mid = ad(a, b, i);
      for (; i < row + end; i++) {
        const right = ad(a, b, i + 1);
        store<f32>(rows + (<usize>i << 2), <f32>((left + mid + right) / 3));
        left = mid;
        mid = right;
      }
    }
    x = end;
  }
  if (x < x1) {
    const i = row + x;
    store<f32>(rows + (<usize>i << 2), <f32>((ad(a, b, i - 1) + ad(a, b, i)) / 2));
  }
}

/** change-mask.ts smoothedAbsDiffIn(): the 3×3 mean of |a − b| inside the rect, 0 elsewhere, into `out`. */
function smoothedAbsDiffIn(a: usize, b: usize, width: i32, height: i32, rx: i32, ry: i32, rw: i32, rh: i32, rows: usize, out: usize): void {
  if (rw < width || rh < height) memory.fill(out, 0, <usize>width * <usize>height * 4);
  const ry0 = max<i32>(0, ry - 1);
  const ry1 = min<i32>(height, ry + rh + 1);
  for (let y = ry0; y < ry1; y++) rowMeans(a, b, y * width, width, rx, rx + rw, rows);
  for (let y = ry; y < ry + rh; y++) {
    const i0 = y * width;
    const up = y > 0 ? i0 - width : i0;
    const down = y < height - 1 ? i0 + width : i0;
    const count = (down - up) / width + 1;
    let x = rx;
    if (count == 3) {
      // Four at a time: (up + mid + down) / 3 in f64, added in the scalar loop's order.
      const three = f64x2.splat(3);
      for (; x + 4 <= rx + rw; x += 4) {
        const u = v128.load(rows + (<usize>(up + x) << 2));
        const c = v128.load(rows + (<usize>(i0 + x) << 2));
        const d = v128.load(rows + (<usize>(down + x) << 2));
        const lo = f64x2.div(f64x2.add(f64x2.add(f32lo(u), f32lo(c)), f32lo(d)), three);
        const hi = f64x2.div(f64x2.add(f64x2.add(f32hi(u), f32hi(c)), f32hi(d)), three);
        v128.store(out + (<usize>(i0 + x) << 2), f32of(lo, hi));
      }
    }
    for (; x < rx + rw; x++) {
      let v: f64;
      if (count == 3) v = (lf(rows, up + x) + lf(rows, i0 + x) + lf(rows, down + x)) / 3;
      else if (up < i0) v = (lf(rows, up + x) + lf(rows, i0 + x)) / <f64>count;
      else if (down > i0) v = (lf(rows, i0 + x) + lf(rows, down + x)) / <f64>count;
      else v = lf(rows, i0 + x);
      store<f32>(out + (<usize>(i0 + x) << 2), <f32>v);
    }
  }
}

/** change-mask.ts weightOf(). */
@inline function weightOf(diff: f64, movingAbove: f64, span: f64): f64 {
  return max<f64>(0, min<f64>(1, (movingAbove - diff) / span));
}

@inline function at(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

/**
 * change-mask.ts erode3x3()'s row pass: the minimum of src over x−1..x+1 (clipped) into `rows`. `if (b < m) m = b`
 * is f32x4.pmin(m, b) lane by lane (pmin(a, b) = b < a ? b : a), the same f32 whatever the values.
 */
function erodeRows(src: usize, width: i32, height: i32, rows: usize): void {
  for (let y = 0; y < height; y++) {
    const r = y * width;
    store<f32>(rows + (<usize>r << 2), erodedInRow(src, r, 0, width));
    let x = 1;
    for (; x + 4 < width; x += 4) {
      const p = src + (<usize>(r + x) << 2);
      v128.store(rows + (<usize>(r + x) << 2), f32x4.pmin(f32x4.pmin(v128.load(p), v128.load(p - 4)), v128.load(p + 4)));
    }
    for (; x < width; x++) store<f32>(rows + (<usize>(r + x) << 2), erodedInRow(src, r, x, width));
  }
}

/** The minimum of src over x−1..x+1 (clipped) of the row starting at r, as change-mask.ts erode3x3() finds it. */
@inline function erodedInRow(src: usize, r: i32, x: i32, width: i32): f32 {
  let m = at(src, r + x);
  if (x > 0 && at(src, r + x - 1) < m) m = at(src, r + x - 1);
  if (x < width - 1 && at(src, r + x + 1) < m) m = at(src, r + x + 1);
  return m;
}

/**
 * change-mask.ts erode3x3() (the 3×3 minimum of `src`, `rows`: scratch) and what warpedPasts() does with it, in one
 * pass: the eroded weights (k = 0: `first`) limited by the newer frame's (`cumulative`, which takes them), times
 * decayᵏ into `weight` (may be `src`): the f32 weights of warpedPasts() and stillWeights().
 */
function erodeLimitDecay(src: usize, width: i32, height: i32, rows: usize, cumulative: usize, first: bool, decay: f64, weight: usize): void {
  erodeRows(src, width, height, rows);
  const vd = f64x2.splat(decay);
  for (let y = 0; y < height; y++) {
    const r = y * width;
    const up = y > 0 ? r - width : r;
    const down = y < height - 1 ? r + width : r;
    let x = 0;
    for (; x + 4 <= width; x += 4) {
      // pmin with itself where the row has no neighbour: the same as skipping it.
      let e = f32x4.pmin(f32x4.pmin(v128.load(rows + (<usize>(r + x) << 2)), v128.load(rows + (<usize>(up + x) << 2))), v128.load(rows + (<usize>(down + x) << 2)));
      const o = <usize>(r + x) << 2;
      if (!first) e = f32x4.pmin(e, v128.load(cumulative + o));
      v128.store(cumulative + o, e);
      v128.store(weight + o, f32of(f64x2.mul(f32lo(e), vd), f64x2.mul(f32hi(e), vd)));
    }
    for (; x < width; x++) {
      const i = r + x;
      let m = at(rows, i);
      if (y > 0 && at(rows, i - width) < m) m = at(rows, i - width);
      if (y < height - 1 && at(rows, i + width) < m) m = at(rows, i + width);
      const o = <usize>i << 2;
      if (!first) {
        const c = load<f32>(cumulative + o);
        if (c < m) m = c;
      }
      store<f32>(cumulative + o, m);
      store<f32>(weight + o, <f32>(<f64>m * decay));
    }
  }
}

/** motion-blend.ts registrationSlack(): factor × the 3×3 mean of |∇luma| into `out` (`g`, `zero`: byte planes). */
function registrationSlack(luma: usize, w: i32, h: i32, factor: f64, g: usize, zero: usize, rows: usize, out: usize): void {
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i++) {
      const gx = <i32>load<u8>(luma + <usize>(y * w + min<i32>(w - 1, x + 1))) - <i32>load<u8>(luma + <usize>(y * w + max<i32>(0, x - 1)));
      const gy = <i32>load<u8>(luma + <usize>(min<i32>(h - 1, y + 1) * w + x)) - <i32>load<u8>(luma + <usize>(max<i32>(0, y - 1) * w + x));
      store<u8>(g + <usize>i, <u8>(<i32>min<f64>(255, <f64>(abs<i32>(gx) + abs<i32>(gy)) / 2)));
    }
  }
  memory.fill(zero, 0, <usize>w * <usize>h);
  smoothedAbsDiffIn(g, zero, w, h, 0, 0, w, h, rows, out);
  for (let i = 0; i < w * h; i++) store<f32>(out + (<usize>i << 2), <f32>(lf(out, i) * factor));
}

// followLink() and warpedLuma() two pixels at a time: their arithmetic in f64x2, lane for lane the scalar code's
// operations in its order; only the reads at the sampled corners (gathers) are one value at a time.

/** jsRound() of two lanes. */
@inline function jsRound2(v: v128): v128 {
  const r = f64x2.floor(v);
  return f64x2.add(r, v128.and(f64x2.ge(f64x2.sub(v, r), f64x2.splat(0.5)), f64x2.splat(1)));
}
/** plane[i], plane[i + 1] of an f32 plane, as f64x2. */
@inline function lf2(plane: usize, i: i32): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(plane + (<usize>i << 2)));
}
/** Two f64 lanes rounded to f32 into plane[i], plane[i + 1]. */
@inline function sf2(plane: usize, i: i32, a: v128): void {
  v128.store64_lane(plane + (<usize>i << 2), f32x4.demote_f64x2_zero(a), 0);
}
/** The bilinear interpolation of two pixels from their corners' values (f64x2 each) and fractions. */
@inline function mix2(p00: v128, p01: v128, p10: v128, p11: v128, fx: v128, fy: v128): v128 {
  const a = f64x2.add(p00, f64x2.mul(f64x2.sub(p01, p00), fx));
  const b = f64x2.add(p10, f64x2.mul(f64x2.sub(p11, p10), fx));
  return f64x2.add(a, f64x2.mul(f64x2.sub(b, a), fy));
}
/** Corner j00 of the bilinear sample at (x0, y0) (x0 = ⌊cx⌋ of a clamped cx, so inside the plane). */
@inline function j00(w: i32, x0: i32, y0: i32): i32 {
  return y0 * w + x0;
}
/** The step from a corner to its right neighbour: 0 on the last column. */
@inline function stepX(w: i32, x0: i32): i32 {
  return x0 < w - 1 ? 1 : 0;
}
/** The step from a corner to the one below: 0 on the last row. */
@inline function stepY(w: i32, h: i32, y0: i32): i32 {
  return y0 < h - 1 ? w : 0;
}
/** An f32 plane's four corners at j (right: +sx, below: +sy) as f32x4 (00, 01, 10, 11). */
@inline function cornersF32(plane: usize, j: i32, sx: i32, sy: i32): v128 {
  let q = f32x4.splat(load<f32>(plane + (<usize>j << 2)));
  q = f32x4.replace_lane(q, 1, load<f32>(plane + (<usize>(j + sx) << 2)));
  q = f32x4.replace_lane(q, 2, load<f32>(plane + (<usize>(j + sy) << 2)));
  return f32x4.replace_lane(q, 3, load<f32>(plane + (<usize>(j + sy + sx) << 2)));
}
/** A byte plane's four corners at j as i32x4 (00, 01, 10, 11). */
@inline function cornersU8(plane: usize, j: i32, sx: i32, sy: i32): v128 {
  let q = i32x4.splat(<i32>load<u8>(plane + <usize>j));
  q = i32x4.replace_lane(q, 1, <i32>load<u8>(plane + <usize>(j + sx)));
  q = i32x4.replace_lane(q, 2, <i32>load<u8>(plane + <usize>(j + sy)));
  return i32x4.replace_lane(q, 3, <i32>load<u8>(plane + <usize>(j + sy + sx)));
}
/** Bilinear samples of an f32 plane for two pixels whose corners are `a` and `b` (cornersF32). */
@inline function sampleF32x2(a: v128, b: v128, fx: v128, fy: v128): v128 {
  const top = i32x4.shuffle(a, b, 0, 4, 1, 5);
  const bottom = i32x4.shuffle(a, b, 2, 6, 3, 7);
  return mix2(f32lo(top), f32hi(top), f32lo(bottom), f32hi(bottom), fx, fy);
}

/** motion-blend.ts followLink() of one pixel (the tail of a row). */
@inline function followAt(dx: usize, dy: usize, ok: usize, u: usize, v: usize, consistent: usize, w: i32, h: i32, first: bool, x: i32, y: i32, i: i32): void {
  const px = <f64>x + lf(dx, i);
  const py = <f64>y + lf(dy, i);
  const nx = jsRound(px);
  const ny = jsRound(py);
  if (nx < 0 || ny < 0 || nx >= <f64>w || ny >= <f64>h || load<u8>(consistent + <usize>(<i32>ny * w + <i32>nx)) == 0) store<u8>(ok + <usize>i, 0);
  if (first) {
    store<f32>(dx + (<usize>i << 2), <f32>(lf(dx, i) + lf(u, i)));
    store<f32>(dy + (<usize>i << 2), <f32>(lf(dy, i) + lf(v, i)));
    return;
  }
  // The bilinear sample of u and of v at (px, py), clamped to the plane, the corners and fractions found once.
  const cx = max<f64>(0, min<f64>(px, <f64>(w - 1)));
  const cy = max<f64>(0, min<f64>(py, <f64>(h - 1)));
  const x0 = <i32>Math.floor(cx);
  const y0 = <i32>Math.floor(cy);
  const fx = cx - <f64>x0;
  const fy = cy - <f64>y0;
  const j = j00(w, x0, y0);
  const j01 = j + stepX(w, x0);
  const j10 = j + stepY(w, h, y0);
  const j11 = j10 + (j01 - j);
  const ua = lf(u, j) + (lf(u, j01) - lf(u, j)) * fx;
  const ub = lf(u, j10) + (lf(u, j11) - lf(u, j10)) * fx;
  store<f32>(dx + (<usize>i << 2), <f32>(lf(dx, i) + (ua + (ub - ua) * fy)));
  const va = lf(v, j) + (lf(v, j01) - lf(v, j)) * fx;
  const vb = lf(v, j10) + (lf(v, j11) - lf(v, j10)) * fx;
  store<f32>(dy + (<usize>i << 2), <f32>(lf(dy, i) + (va + (vb - va) * fy)));
}

/** followLink()'s check of two pixels' rounded positions: out of the frame or not consistent there → not ok. */
@inline function checkArrival2(ok: usize, consistent: usize, w: i32, h: i32, i: i32, nx: v128, ny: v128): void {
  const zero = f64x2.splat(0);
  // NaN (a flow that is not a number) is not ok, as in TypeScript (consistent[NaN] is undefined).
  const outside = v128.or(
    v128.or(v128.or(f64x2.lt(nx, zero), f64x2.lt(ny, zero)), v128.or(f64x2.ne(nx, nx), f64x2.ne(ny, ny))),
    v128.or(f64x2.ge(nx, f64x2.splat(<f64>w)), f64x2.ge(ny, f64x2.splat(<f64>h))),
  );
  const bits = i64x2.bitmask(outside);
  const ix = i32x4.trunc_sat_f64x2_s_zero(nx);
  const iy = i32x4.trunc_sat_f64x2_s_zero(ny);
  if ((bits & 1) != 0 || load<u8>(consistent + <usize>(i32x4.extract_lane(iy, 0) * w + i32x4.extract_lane(ix, 0))) == 0) store<u8>(ok + <usize>i, 0);
  if ((bits & 2) != 0 || load<u8>(consistent + <usize>(i32x4.extract_lane(iy, 1) * w + i32x4.extract_lane(ix, 1))) == 0) store<u8>(ok + <usize>(i + 1), 0);
}

/** motion-blend.ts followLink(): the chain (dx, dy, ok) advanced by one link, inside the rect. */
function followLink(dx: usize, dy: usize, ok: usize, u: usize, v: usize, consistent: usize, w: i32, h: i32, first: bool, rx: i32, ry: i32, rw: i32, rh: i32): void {
  const zero = f64x2.splat(0);
  const right = f64x2.splat(<f64>(w - 1));
  const bottom = f64x2.splat(<f64>(h - 1));
  for (let y = ry; y < ry + rh; y++) {
    const vy = f64x2.splat(<f64>y);
    let x = rx;
    let i = y * w + rx;
    for (; x + 2 <= rx + rw; x += 2, i += 2) {
      const px = f64x2.add(f64x2.add(f64x2.splat(<f64>x), f64x2(0, 1)), lf2(dx, i));
      const py = f64x2.add(vy, lf2(dy, i));
      checkArrival2(ok, consistent, w, h, i, jsRound2(px), jsRound2(py));
      if (first) {
        sf2(dx, i, f64x2.add(lf2(dx, i), lf2(u, i)));
        sf2(dy, i, f64x2.add(lf2(dy, i), lf2(v, i)));
        continue;
      }
      const cx = f64x2.max(zero, f64x2.min(px, right));
      const cy = f64x2.max(zero, f64x2.min(py, bottom));
      const fx0 = f64x2.floor(cx);
      const fy0 = f64x2.floor(cy);
      const ix = i32x4.trunc_sat_f64x2_s_zero(fx0);
      const iy = i32x4.trunc_sat_f64x2_s_zero(fy0);
      const xa = i32x4.extract_lane(ix, 0);
      const ya = i32x4.extract_lane(iy, 0);
      const xb = i32x4.extract_lane(ix, 1);
      const yb = i32x4.extract_lane(iy, 1);
      const ja = j00(w, xa, ya);
      const jb = j00(w, xb, yb);
      const sxa = stepX(w, xa);
      const sya = stepY(w, h, ya);
      const sxb = stepX(w, xb);
      const syb = stepY(w, h, yb);
      const fx = f64x2.sub(cx, fx0);
      const fy = f64x2.sub(cy, fy0);
      const su = sampleF32x2(cornersF32(u, ja, sxa, sya), cornersF32(u, jb, sxb, syb), fx, fy);
      sf2(dx, i, f64x2.add(lf2(dx, i), su));
      const sv = sampleF32x2(cornersF32(v, ja, sxa, sya), cornersF32(v, jb, sxb, syb), fx, fy);
      sf2(dy, i, f64x2.add(lf2(dy, i), sv));
    }
    for (; x < rx + rw; x++, i++) followAt(dx, dy, ok, u, v, consistent, w, h, first, x, y, i);
  }
}

/** motion-blend.ts warpedLuma() of one pixel (the tail of a row). */
@inline function warpedAt(dx: usize, dy: usize, ok: usize, past: usize, w: i32, h: i32, s: f64, x: i32, y: i32, i: i32, ox: usize, oy: usize, luma: usize): void {
  const qx = jsRound(lf(dx, i) * s);
  const qy = jsRound(lf(dy, i) * s);
  store<i32>(ox + (<usize>i << 2), <i32>qx);
  store<i32>(oy + (<usize>i << 2), <i32>qy);
  const bx = <f64>x * s + qx;
  const by = <f64>y * s + qy;
  if (bx < 0 || by < 0 || bx + s > <f64>w * s || by + s > <f64>h * s) store<u8>(ok + <usize>i, 0);
  const cx = max<f64>(0, min<f64>(<f64>x + qx / s, <f64>(w - 1)));
  const cy = max<f64>(0, min<f64>(<f64>y + qy / s, <f64>(h - 1)));
  const x0 = <i32>Math.floor(cx);
  const y0 = <i32>Math.floor(cy);
  const fx = cx - <f64>x0;
  const fy = cy - <f64>y0;
  const j = j00(w, x0, y0);
  const j01 = j + stepX(w, x0);
  const j10 = j + stepY(w, h, y0);
  const j11 = j10 + (j01 - j);
  const p00 = <f64>load<u8>(past + <usize>j);
  const a = p00 + (<f64>load<u8>(past + <usize>j01) - p00) * fx;
  const p10 = <f64>load<u8>(past + <usize>j10);
  const b = p10 + (<f64>load<u8>(past + <usize>j11) - p10) * fx;
  store<u8>(luma + <usize>i, <u8>(<i32>(a + (b - a) * fy + 0.5)));
}

/** Two pixels' whole-output-pixel offsets (qx, qy) whose block would leave the output: not ok. */
@inline function checkBlock2(ok: usize, w: i32, h: i32, s: v128, i: i32, vx: v128, vy: v128, qx: v128, qy: v128): void {
  const zero = f64x2.splat(0);
  const bx = f64x2.add(f64x2.mul(vx, s), qx);
  const by = f64x2.add(f64x2.mul(vy, s), qy);
  const outside = v128.or(
    v128.or(f64x2.lt(bx, zero), f64x2.lt(by, zero)),
    v128.or(f64x2.gt(f64x2.add(bx, s), f64x2.mul(f64x2.splat(<f64>w), s)), f64x2.gt(f64x2.add(by, s), f64x2.mul(f64x2.splat(<f64>h), s))),
  );
  const bits = i64x2.bitmask(outside);
  if ((bits & 1) != 0) store<u8>(ok + <usize>i, 0);
  if ((bits & 2) != 0) store<u8>(ok + <usize>(i + 1), 0);
}

/**
 * motion-blend.ts warpedLuma(): the chain rounded to whole output pixels (ox, oy: zeroed by the caller), blocks that
 * would leave the output marked not ok, and the past luma sampled there (`luma`: a copy of the past made here).
 */
function warpedLuma(dx: usize, dy: usize, ok: usize, past: usize, w: i32, h: i32, scale: i32, rx: i32, ry: i32, rw: i32, rh: i32, ox: usize, oy: usize, luma: usize): void {
  memory.copy(luma, past, <usize>w * <usize>h);
  const s = <f64>scale;
  const vs = f64x2.splat(s);
  const zero = f64x2.splat(0);
  const right = f64x2.splat(<f64>(w - 1));
  const bottom = f64x2.splat(<f64>(h - 1));
  for (let y = ry; y < ry + rh; y++) {
    const vy = f64x2.splat(<f64>y);
    let x = rx;
    let i = y * w + rx;
    for (; x + 2 <= rx + rw; x += 2, i += 2) {
      const vx = f64x2.add(f64x2.splat(<f64>x), f64x2(0, 1));
      const qx = jsRound2(f64x2.mul(lf2(dx, i), vs));
      const qy = jsRound2(f64x2.mul(lf2(dy, i), vs));
      v128.store64_lane(ox + (<usize>i << 2), i32x4.trunc_sat_f64x2_s_zero(qx), 0);
      v128.store64_lane(oy + (<usize>i << 2), i32x4.trunc_sat_f64x2_s_zero(qy), 0);
      checkBlock2(ok, w, h, vs, i, vx, vy, qx, qy);
      const cx = f64x2.max(zero, f64x2.min(f64x2.add(vx, f64x2.div(qx, vs)), right));
      const cy = f64x2.max(zero, f64x2.min(f64x2.add(vy, f64x2.div(qy, vs)), bottom));
      const fx0 = f64x2.floor(cx);
      const fy0 = f64x2.floor(cy);
      const ix = i32x4.trunc_sat_f64x2_s_zero(fx0);
      const iy = i32x4.trunc_sat_f64x2_s_zero(fy0);
      const xa = i32x4.extract_lane(ix, 0);
      const ya = i32x4.extract_lane(iy, 0);
      const xb = i32x4.extract_lane(ix, 1);
      const yb = i32x4.extract_lane(iy, 1);
      const a = cornersU8(past, j00(w, xa, ya), stepX(w, xa), stepY(w, h, ya));
      const b = cornersU8(past, j00(w, xb, yb), stepX(w, xb), stepY(w, h, yb));
      const top = i32x4.shuffle(a, b, 0, 4, 1, 5);
      const low = i32x4.shuffle(a, b, 2, 6, 3, 7);
      const sample = mix2(lo(top), hi(top), lo(low), hi(low), f64x2.sub(cx, fx0), f64x2.sub(cy, fy0));
      const bytes = i32x4.trunc_sat_f64x2_u_zero(f64x2.add(sample, f64x2.splat(0.5)));
      store<u8>(luma + <usize>i, <u8>i32x4.extract_lane(bytes, 0));
      store<u8>(luma + <usize>(i + 1), <u8>i32x4.extract_lane(bytes, 1));
    }
    for (; x < rx + rw; x++, i++) warpedAt(dx, dy, ok, past, w, h, s, x, y, i, ox, oy, luma);
  }
}

/** weightsFromDiff(): each smoothed difference mapped to a static weight, `diff` → `out` (f32 planes). */
function weightsFromDiff(diff: usize, n: i32, movingAbove: f64, span: f64, out: usize): void {
  const ma = f64x2.splat(movingAbove);
  const sp = f64x2.splat(span);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const d = v128.load(diff + (<usize>i << 2));
    v128.store(out + (<usize>i << 2), f32of(weightOf2(f32lo(d), ma, sp), weightOf2(f32hi(d), ma, sp)));
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), <f32>weightOf(lf(diff, i), movingAbove, span));
}

/**
 * motion-blend.ts betterHypothesis(): per pixel of the rect with a non-zero offset, the warped past's weight (its
 * smoothed difference less the slack) where the chain is ok and it beats "did not move", else a zero offset.
 * `weight` holds the still weights on entry. Four pixels at a time, the choices made with masks (they depend on the
 * picture: a branch on them is often mispredicted).
 */
function betterHypothesis(cur: usize, wl: usize, ok: usize, w: i32, h: i32, rx: i32, ry: i32, rw: i32, rh: i32, slack: usize, movingAbove: f64, span: f64, rows: usize, moved: usize, weight: usize, ox: usize, oy: usize): void {
  smoothedAbsDiffIn(cur, wl, w, h, rx, ry, rw, rh, rows, moved);
  const ma = f64x2.splat(movingAbove);
  const sp = f64x2.splat(span);
  const zero = f64x2.splat(0);
  for (let y = ry; y < ry + rh; y++) {
    let i = y * w + rx;
    const end = y * w + rx + rw;
    for (; i + 4 <= end; i += 4) {
      const o = <usize>i << 2;
      const qx = v128.load(ox + o);
      const qy = v128.load(oy + o);
      const offset = v128.or(i32x4.ne(qx, i32x4.splat(0)), i32x4.ne(qy, i32x4.splat(0)));
      const m4 = v128.load(moved + o);
      const s4 = v128.load(slack + o);
      // d = fround(max(0, moved − slack)); the weight fround(weightOf(d)).
      const d = f32of(f64x2.max(zero, f64x2.sub(f32lo(m4), f32lo(s4))), f64x2.max(zero, f64x2.sub(f32hi(m4), f32hi(s4))));
      const mw = f32of(weightOf2(f32lo(d), ma, sp), weightOf2(f32hi(d), ma, sp));
      const w4 = v128.load(weight + o);
      const okay = i32x4.eq(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(ok + <usize>i))), i32x4.splat(1));
      const better = v128.and(okay, f32x4.gt(mw, w4));
      v128.store(weight + o, v128.bitselect(mw, w4, v128.and(offset, better)));
      // Offsets kept where it is better (where there is none they are zero either way).
      v128.store(ox + o, v128.and(qx, better));
      v128.store(oy + o, v128.and(qy, better));
    }
    for (; i < end; i++) {
      const o = <usize>i << 2;
      if (load<i32>(ox + o) == 0 && load<i32>(oy + o) == 0) continue;
      const d = <f64>(<f32>max<f64>(0, lf(moved, i) - lf(slack, i)));
      const m = <f32>weightOf(d, movingAbove, span);
      if (load<u8>(ok + <usize>i) == 1 && m > load<f32>(weight + o)) store<f32>(weight + o, m);
      else {
        store<i32>(ox + o, 0);
        store<i32>(oy + o, 0);
      }
    }
  }
}

/**
 * motion-blend.ts warpedPasts(): per past frame k (newest first), its blend weight and whole-output-pixel offset per
 * low-res pixel. `lumas`, `us`, `vs`, `cons`, `outWeights`, `outOx`, `outOy`: tables of m addresses; `regions`: m
 * rects (x, y, w, h; w = 0: none); `work`: 4·(9n) + 4n bytes of scratch. The outputs need not be zeroed.
 */
export function warpedPasts(cur: usize, w: i32, h: i32, scale: i32, m: i32, lumas: usize, us: usize, vs: usize, cons: usize, regions: usize, staticBelow: f64, movingAbove: f64, decayStep: f64, slackFactor: f64, outWeights: usize, outOx: usize, outOy: usize, work: usize): void {
  const n = w * h;
  const plane = <usize>n << 2;
  const dx = work;
  const dy = dx + plane;
  const slack = dy + plane;
  const moved = slack + plane;
  const rows = moved + plane;
  const erodeRows = rows + plane;
  const cumulative = erodeRows + plane;
  const eroded = cumulative + plane;
  const diff = eroded + plane;
  const ok = diff + plane;
  const wl = ok + <usize>n;
  const g = wl + <usize>n;
  const zero = g + <usize>n;
  memory.fill(dx, 0, plane * 2);
  memory.fill(ok, 1, <usize>n);
  const span = max<f64>(1e-6, movingAbove - staticBelow);
  let haveArea = false;
  let ax = 0, ay = 0, ax1 = 0, ay1 = 0;
  let haveSlack = false;
  let decay: f64 = 1;
  for (let k = 0; k < m; k++) {
    const kk = <usize>k << 2;
    const luma = <usize>load<u32>(lumas + kk);
    const weight = <usize>load<u32>(outWeights + kk);
    const ox = <usize>load<u32>(outOx + kk);
    const oy = <usize>load<u32>(outOy + kk);
    smoothedAbsDiffIn(cur, luma, w, h, 0, 0, w, h, rows, diff);
    weightsFromDiff(diff, n, movingAbove, span, weight);
    memory.fill(ox, 0, plane);
    memory.fill(oy, 0, plane);
    const r = regions + (<usize>k << 4);
    const rw = load<i32>(r, 8);
    if (rw > 0) {
      const rx = load<i32>(r);
      const ry = load<i32>(r, 4);
      const rh = load<i32>(r, 12);
      if (!haveArea) {
        ax = rx; ay = ry; ax1 = rx + rw; ay1 = ry + rh; haveArea = true;
      } else {
        ax = min<i32>(ax, rx); ay = min<i32>(ay, ry); ax1 = max<i32>(ax1, rx + rw); ay1 = max<i32>(ay1, ry + rh);
      }
    }
    if (haveArea) {
      const u = <usize>load<u32>(us + kk);
      const v = <usize>load<u32>(vs + kk);
      const c = <usize>load<u32>(cons + kk);
      followLink(dx, dy, ok, u, v, c, w, h, k == 0, ax, ay, ax1 - ax, ay1 - ay);
      warpedLuma(dx, dy, ok, luma, w, h, scale, ax, ay, ax1 - ax, ay1 - ay, ox, oy, wl);
      if (!haveSlack) {
        registrationSlack(cur, w, h, slackFactor, g, zero, rows, slack);
        haveSlack = true;
      }
      betterHypothesis(cur, wl, ok, w, h, ax, ay, ax1 - ax, ay1 - ay, slack, movingAbove, span, rows, moved, weight, ox, oy);
    }
    // The hypothesis's weight (in `weight`) eroded, limited by the newer frame's, times decayᵏ.
    decay *= decayStep;
    erodeLimitDecay(weight, w, h, erodeRows, cumulative, k == 0, decay, weight);
  }
}

/**
 * temporal-stage.ts's static blend plan (no motion): per past frame k (newest first) its static weight — the 3×3
 * smoothed luma difference to the current frame mapped to a weight, eroded, never above the newer frame's — times
 * decayᵏ, then blend-plan.ts staticPlan()'s normalisation, blocks whose every weighted past is the new output's own
 * bytes (`same`) left out. `lumas`: a table of m addresses; outputs w0 and m weight planes; `work`: 5·4n bytes.
 * Returns the blocks to blend.
 */
export function planStatic(cur: usize, w: i32, h: i32, m: i32, lumas: usize, staticBelow: f64, movingAbove: f64, decayStep: f64, same: usize, w0: usize, weights: usize, work: usize): i32 {
  const n = w * h;
  const plane = <usize>n << 2;
  const diff = work;
  const soft = diff + plane;
  const rows = soft + plane;
  const erodeRows = rows + plane;
  const cumulative = erodeRows + plane;
  const span = max<f64>(1e-6, movingAbove - staticBelow);
  let decay: f64 = 1;
  for (let k = 0; k < m; k++) {
    const weight = weights + <usize>k * plane;
    smoothedAbsDiffIn(cur, <usize>load<u32>(lumas + (<usize>k << 2)), w, h, 0, 0, w, h, rows, diff);
    weightsFromDiff(diff, n, movingAbove, span, soft);
    // The weights eroded, limited by the newer frame's, then times decayᵏ.
    decay *= decayStep;
    erodeLimitDecay(soft, w, h, erodeRows, cumulative, k == 0, decay, weight);
  }
  let blocks = 0;
  for (let p = 0; p < n; p++) {
    const o = <usize>p << 2;
    let sum: f64 = 1;
    let last = -1;
    for (let k = 0; k < m; k++) {
      const v = load<f32>(weights + <usize>k * plane + o);
      sum += <f64>v;
      if (v > 0) last = k;
    }
    if (sum <= 1 || (same != 0 && last < <i32>load<u8>(same + <usize>p))) {
      store<f32>(w0 + o, 0);
      for (let k = 0; k < m; k++) store<f32>(weights + <usize>k * plane + o, 0);
      continue;
    }
    const norm = 1 / sum;
    store<f32>(w0 + o, <f32>norm);
    for (let k = 0; k < m; k++) {
      const at = weights + <usize>k * plane + o;
      store<f32>(at, <f32>(<f64>load<f32>(at) * norm));
    }
    blocks++;
  }
  return blocks;
}
