// AssemblyScript: the per-output-pixel half of the temporal blend (src/engine/temporal/blend-plan.ts blendOnCpu()),
// in WebAssembly SIMD. Compiled by `npm run build:wasm` into src/engine/temporal/blend-simd-wasm.ts.
//
// Per output byte of a blended block: a = fround(norm·raw); a = fround(a + wₖ·pastₖ[j + oₖ]) for each past with a
// weight, in order; out = ⌊a + 0.5⌋. Two f64 lanes: every product of a float32 weight and a byte is exact in f64,
// and each sum is rounded to f64 and then to f32 exactly as the typed-array code's Math.fround(… + …) does, so the
// bytes are the same.

/** The block's pasts, gathered once: f64 weights at SCRATCH, u32 source addresses (past + shift) at SCRATCH + 128. */
const MAX_PASTS: i32 = 16;

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
 * Blends every block whose w0 ≠ 0 into `out` (which holds raw's bytes already). Frames are rgb24, (w·s) × (h·s);
 * w0: f32 per block; weights: `m` f32 planes of w·h; shifts: `m` i32 planes (output pixels, oy·w·s + ox) or 0 for
 * none; pasts: `m` u32 addresses; scratch: 256 bytes. Returns the blocks blended. At most MAX_PASTS pasts.
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
): i32 {
  if (m > MAX_PASTS) return -1;
  const plane = <usize>w * <usize>h;
  const rowBytes = <usize>w * <usize>s * 3;
  const blockBytes = <usize>s * 3;
  let blocks = 0;
  for (let y = 0; y < h; y++) {
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
      const start = <usize>y * <usize>s * rowBytes + <usize>x * blockBytes;
      for (let dy = 0; dy < s; dy++) {
        const from = start + <usize>dy * rowBytes;
        const j = used == 3 ? row3(raw, out, from, blockBytes, norm, scratch) : rowN(raw, out, from, blockBytes, norm, used, scratch);
        tail(raw, out, from, j, blockBytes, norm, used, scratch);
      }
    }
  }
  return blocks;
}

/** Mean |raw − past| over the middle output row of one block (motion-blend.ts blockDisagreement()). */
@inline function disagreement(raw: usize, past: usize, base: usize, src: usize, rowBytes: usize, s: i32): f64 {
  const a = raw + base + (<usize>(s >> 1)) * rowBytes;
  const b = past + src + (<usize>(s >> 1)) * rowBytes;
  const bytes = <usize>s * 3;
  let sum: i32 = 0;
  for (let j: usize = 0; j < bytes; j++) sum += abs<i32>(<i32>load<u8>(a + j) - <i32>load<u8>(b + j));
  return <f64>sum / <f64>bytes;
}

/**
 * The warped blend's plan (motion-blend.ts planWarpedRow(), every row): per block and past, its weight unless the
 * past read at its offset disagrees with the new output (mean > agreeLimit), the offset where it is used, the
 * weights normalised; a block whose every used past is its own bytes in place (`same`) keeps the model's. Inputs:
 * `m` f32 weight planes, i32 ox and oy planes, a u8 `same` plane or 0. Outputs (zeroed by the caller): w0, m weight
 * planes, m shift planes. Returns the blocks to blend.
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
): i32 {
  const plane = <usize>w * <usize>h;
  const rowBytes = <usize>w * <usize>s * 3;
  const blockBytes = <usize>s * 3;
  let blocks = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = <usize>y * <usize>w + <usize>x;
      const base = <usize>y * <usize>s * rowBytes + <usize>x * blockBytes;
      let sum: f64 = 1;
      let own = true;
      for (let k = 0; k < m; k++) {
        const at = (<usize>k * plane + p) << 2;
        let use = <f64>load<f32>(inWeights + at);
        const ox = load<i32>(inOx + at);
        const oy = load<i32>(inOy + at);
        const o = oy * <i32>rowBytes + ox * 3;
        const past = <usize>load<u32>(pasts + (<usize>k << 2));
        if (use > 0 && o != 0 && disagreement(raw, past, base, base + <usize>o, rowBytes, s) > agreeLimit) use = 0;
        store<f32>(weights + at, <f32>use);
        if (use > 0) store<i32>(shifts + at, oy * w * s + ox);
        if (use > 0 && (o != 0 || same == 0 || k >= <i32>load<u8>(same + p))) own = false;
        sum += use;
      }
      if (sum <= 1) continue;
      if (own) {
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
