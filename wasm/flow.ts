// AssemblyScript: the dense optical flow's kernels (src/engine/temporal/optical-flow.ts), compiled by
// `npm run build:wasm` into src/engine/temporal/flow-wasm.ts and driven by flow-simd.ts. Each computes what its
// TypeScript original computes, to the bit: the arithmetic in f64 as JavaScript does it, in the same order, every
// value rounded to f32 where a Float32Array stores it, running sums in f64 where the TypeScript keeps them in a
// number or a Float64Array. SIMD lanes are f64x2 (no fused multiply-add: it would round once where JS rounds twice).
// The caller lays out the memory: every argument named as a plane is the byte address of a w×h f32 plane.

/** f32 plane p's value at index i, as JavaScript reads it (a number). */
@inline function ld(p: usize, i: usize): f64 {
  return <f64>load<f32>(p + (i << 2));
}
/** Stores x at index i of f32 plane p, rounded as a Float32Array store rounds. */
@inline function st(p: usize, i: usize, x: f64): void {
  store<f32>(p + (i << 2), <f32>x);
}
/** Two f32 values at index i of plane p as f64 lanes. */
@inline function ld2(p: usize, i: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p + (i << 2)));
}
/** Stores two f64 lanes as f32 at index i of plane p. */
@inline function st2(p: usize, i: usize, x: v128): void {
  v128.store64_lane(p + (i << 2), f32x4.demote_f64x2_zero(x), 0);
}

/** Float32Array.from(luma): the pyramid's finest level. */
export function lumaToPlane(luma: usize, n: i32, out: usize): void {
  for (let i: usize = 0; i < <usize>n; i++) st(out, i, <f64>load<u8>(luma + i));
}

/** downsample(): [1 2 1]/4 blur, every other pixel; the source w×h at `src`, the result at `dst`. */
export function downsample(src: usize, w: i32, h: i32, dst: usize): void {
  const dw = max(1, w >> 1);
  const dh = max(1, h >> 1);
  for (let y = 0; y < dh; y++) {
    const sy = 2 * y;
    for (let x = 0; x < dw; x++) {
      const sx = 2 * x;
      const xl = <usize>min(w - 1, max(0, sx - 1));
      const xc = <usize>min(w - 1, max(0, sx));
      const xr = <usize>min(w - 1, max(0, sx + 1));
      let s: f64 = 0;
      for (let j = -1; j <= 1; j++) {
        const wy: f64 = j == 0 ? 2 : 1;
        const row = <usize>min(h - 1, max(0, sy + j)) * <usize>w;
        s += wy * (ld(src, row + xl) + 2 * ld(src, row + xc) + ld(src, row + xr));
      }
      st(dst, <usize>y * <usize>dw + <usize>x, s / 16);
    }
  }
}

/** The first running sum of a row: src[row + 0..min(r, w − 1)], in order. */
@inline function rowStart(src: usize, row: usize, w: i32, r: i32): f64 {
  let s: f64 = 0;
  const end = min(r, w - 1);
  for (let x = 0; x <= end; x++) s += ld(src, row + <usize>x);
  return s;
}

/** boxSum()'s row pass of one row: its running sum (f64) of radius r, stored f32 in tmp. */
@inline function boxRow(src: usize, w: i32, r: i32, row: usize, tmp: usize): void {
  const inner = min(w, w - r - 1);
  const first = min(r, inner);
  let s = rowStart(src, row, w, r);
  let x = 0;
  for (; x < first; x++) {
    st(tmp, row + <usize>x, s);
    s += ld(src, row + <usize>(x + r + 1));
  }
  for (; x < inner; x++) {
    st(tmp, row + <usize>x, s);
    s += ld(src, row + <usize>(x + r + 1));
    s -= ld(src, row + <usize>(x - r));
  }
  for (; x < w; x++) {
    st(tmp, row + <usize>x, s);
    if (x - r >= 0) s -= ld(src, row + <usize>(x - r));
  }
}

/**
 * boxRow() of four rows (a, a + w, a + 2w, a + 3w) side by side: four independent running sums, each with its row's
 * additions in the same order, so the processor overlaps them instead of waiting on one sum.
 */
@inline function boxRows4(src: usize, w: i32, r: i32, a: usize, tmp: usize): void {
  const uw = <usize>w;
  const inner = min(w, w - r - 1);
  const first = min(r, inner);
  let s0 = rowStart(src, a, w, r);
  let s1 = rowStart(src, a + uw, w, r);
  let s2 = rowStart(src, a + 2 * uw, w, r);
  let s3 = rowStart(src, a + 3 * uw, w, r);
  let x = 0;
  for (; x < first; x++) {
    const i = a + <usize>x;
    const j = i + <usize>(r + 1);
    st(tmp, i, s0);
    st(tmp, i + uw, s1);
    st(tmp, i + 2 * uw, s2);
    st(tmp, i + 3 * uw, s3);
    s0 += ld(src, j);
    s1 += ld(src, j + uw);
    s2 += ld(src, j + 2 * uw);
    s3 += ld(src, j + 3 * uw);
  }
  for (; x < inner; x++) {
    const i = a + <usize>x;
    const j = i + <usize>(r + 1);
    const k = a + <usize>(x - r);
    st(tmp, i, s0);
    st(tmp, i + uw, s1);
    st(tmp, i + 2 * uw, s2);
    st(tmp, i + 3 * uw, s3);
    s0 = s0 + ld(src, j) - ld(src, k);
    s1 = s1 + ld(src, j + uw) - ld(src, k + uw);
    s2 = s2 + ld(src, j + 2 * uw) - ld(src, k + 2 * uw);
    s3 = s3 + ld(src, j + 3 * uw) - ld(src, k + 3 * uw);
  }
  for (; x < w; x++) {
    const i = a + <usize>x;
    st(tmp, i, s0);
    st(tmp, i + uw, s1);
    st(tmp, i + 2 * uw, s2);
    st(tmp, i + 3 * uw, s3);
    if (x - r >= 0) {
      const k = a + <usize>(x - r);
      s0 -= ld(src, k);
      s1 -= ld(src, k + uw);
      s2 -= ld(src, k + 2 * uw);
      s3 -= ld(src, k + 3 * uw);
    }
  }
}

/** boxSum()'s row pass: each row's running sum (f64) of radius r, stored f32 in tmp; four rows at a time. */
function boxRows(src: usize, w: i32, h: i32, r: i32, tmp: usize): void {
  let y = 0;
  for (; y + 4 <= h; y += 4) boxRows4(src, w, r, <usize>y * <usize>w, tmp);
  for (; y < h; y++) boxRow(src, w, r, <usize>y * <usize>w, tmp);
}

/**
 * boxSum(): box sum of radius r (clipped at the borders) of `src` into `out`, through `tmp` (f32) and `cols` (w f64
 * running sums). The column pass two columns at a time: each lane does the scalar additions in the same order.
 */
export function boxSum(src: usize, w: i32, h: i32, r: i32, tmp: usize, out: usize, cols: usize): void {
  boxRows(src, w, h, r, tmp);
  const uw = <usize>w;
  const pairs = uw & ~(<usize>1);
  memory.fill(cols, 0, uw << 3);
  const top = min(r, h - 1);
  for (let y = 0; y <= top; y++) {
    const row = <usize>y * uw;
    for (let x: usize = 0; x < uw; x++) store<f64>(cols + (x << 3), load<f64>(cols + (x << 3)) + ld(tmp, row + x));
  }
  for (let y = 0; y < h; y++) {
    const row = <usize>y * uw;
    const hasAdd = y + r + 1 < h;
    const hasSub = y - r >= 0;
    const add = hasAdd ? <usize>(y + r + 1) * uw : 0;
    const sub = hasSub ? <usize>(y - r) * uw : 0;
    let x: usize = 0;
    if (hasAdd && hasSub) {
      for (; x < pairs; x += 2) {
        const s = v128.load(cols + (x << 3));
        st2(out, row + x, s);
        v128.store(cols + (x << 3), f64x2.sub(f64x2.add(s, ld2(tmp, add + x)), ld2(tmp, sub + x)));
      }
    }
    for (; x < uw; x++) {
      let s = load<f64>(cols + (x << 3));
      st(out, row + x, s);
      if (hasAdd) s += ld(tmp, add + x);
      if (hasSub) s -= ld(tmp, sub + x);
      store<f64>(cols + (x << 3), s);
    }
  }
}

/**
 * templateLevel(): the template's central-difference gradients (gx, gy) and the box sums of radius r of their
 * products (sxx, sxy, syy); `prod`, `tmp` (f32 planes) and `cols` (w f64) are scratch.
 */
export function templateLevel(
  d: usize,
  w: i32,
  h: i32,
  r: i32,
  gx: usize,
  gy: usize,
  sxx: usize,
  sxy: usize,
  syy: usize,
  prod: usize,
  tmp: usize,
  cols: usize,
): void {
  const uw = <usize>w;
  for (let y = 0; y < h; y++) {
    const row = <usize>y * uw;
    const up = <usize>max(0, y - 1) * uw;
    const down = <usize>min(h - 1, y + 1) * uw;
    for (let x = 0; x < w; x++) {
      const i = row + <usize>x;
      st(gx, i, (ld(d, row + <usize>min(w - 1, x + 1)) - ld(d, row + <usize>max(0, x - 1))) / 2);
      st(gy, i, (ld(d, down + <usize>x) - ld(d, up + <usize>x)) / 2);
    }
  }
  const n = uw * <usize>h;
  products(gx, gx, n, prod);
  boxSum(prod, w, h, r, tmp, sxx, cols);
  products(gx, gy, n, prod);
  boxSum(prod, w, h, r, tmp, sxy, cols);
  products(gy, gy, n, prod);
  boxSum(prod, w, h, r, tmp, syy, cols);
}

/** out[i] = a[i]·b[i] (f64, stored f32) for n values, two at a time. */
function products(a: usize, b: usize, n: usize, out: usize): void {
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) st2(out, i, f64x2.mul(ld2(a, i), ld2(b, i)));
  for (; i < n; i++) st(out, i, ld(a, i) * ld(b, i));
}

/** Math.fround of both lanes. */
@inline function fr(a: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(a));
}

/**
 * warpError() of pixel i at (x, y), (tx, ty) = (x + u, y + v) inside `to`: the bilinear sample minus from(i) (f64;
 * the caller rounds it as the error plane does).
 */
@inline function warpAt(from: usize, to: usize, w: i32, h: i32, i: usize, tx: f64, ty: f64): f64 {
  const x0 = <i32>tx;
  const y0 = <i32>ty;
  const fx = tx - <f64>x0;
  const fy = ty - <f64>y0;
  const j = <usize>y0 * <usize>w + <usize>x0;
  const dx: usize = x0 < w - 1 ? 1 : 0;
  const dy: usize = y0 < h - 1 ? <usize>w : 0;
  const t00 = ld(to, j);
  const t10 = ld(to, j + dy);
  const a = t00 + (ld(to, j + dx) - t00) * fx;
  const b = t10 + (ld(to, j + dy + dx) - t10) * fx;
  return a + (b - a) * fy - ld(from, i);
}

/** Two of warpError()'s corners of one lane: row y0's pixels x0 and x0 + 1 (x0 itself on the last column). */
@inline function corners(to: usize, w: i32, x0: i32, y0: i32): v128 {
  const j = <usize>y0 * <usize>w + <usize>x0;
  const dx: usize = x0 < w - 1 ? 1 : 0;
  return f64x2.replace_lane(f64x2.splat(ld(to, j)), 1, ld(to, j + dx));
}

/**
 * warpError() of pixels i, i + 1 (x, x + 1 of row y) in f64x2: the bilinear sample where the match falls inside `to`
 * (lanes outside read pixel 0 and give 0, as the TypeScript's e = 0), rounded to f32 as the error plane stores it.
 */
@inline function warp2(from: usize, to: usize, w: i32, h: i32, i: usize, tx: v128, ty: v128, wl: v128, hl: v128): v128 {
  const zero = f64x2.splat(0);
  const inside = v128.and(
    v128.and(f64x2.ge(tx, zero), f64x2.ge(ty, zero)),
    v128.and(f64x2.le(tx, wl), f64x2.le(ty, hl)),
  );
  const x = v128.and(tx, inside);
  const y = v128.and(ty, inside);
  // x, y ≥ 0: truncation is `| 0`.
  const xf = f64x2.trunc(x);
  const yf = f64x2.trunc(y);
  const fx = f64x2.sub(x, xf);
  const fy = f64x2.sub(y, yf);
  const xi = i32x4.trunc_sat_f64x2_s_zero(xf);
  const yi = i32x4.trunc_sat_f64x2_s_zero(yf);
  const x0 = i32x4.extract_lane(xi, 0);
  const y0 = i32x4.extract_lane(yi, 0);
  const x1 = i32x4.extract_lane(xi, 1);
  const y1 = i32x4.extract_lane(yi, 1);
  // Lane k's top corners (t00, t01) and bottom ones (t10, t11), regrouped by corner.
  const top0 = corners(to, w, x0, y0);
  const top1 = corners(to, w, x1, y1);
  const bottom0 = corners(to, w, x0, y0 < h - 1 ? y0 + 1 : y0);
  const bottom1 = corners(to, w, x1, y1 < h - 1 ? y1 + 1 : y1);
  const t00 = i64x2.shuffle(top0, top1, 0, 2);
  const t01 = i64x2.shuffle(top0, top1, 1, 3);
  const t10 = i64x2.shuffle(bottom0, bottom1, 0, 2);
  const t11 = i64x2.shuffle(bottom0, bottom1, 1, 3);
  const a = f64x2.add(t00, f64x2.mul(f64x2.sub(t01, t00), fx));
  const b = f64x2.add(t10, f64x2.mul(f64x2.sub(t11, t10), fx));
  const e = fr(f64x2.sub(f64x2.add(a, f64x2.mul(f64x2.sub(b, a), fy)), ld2(from, i)));
  return v128.and(e, inside);
}

/**
 * warpError() and refineLevel()'s residual: e = to(p + (u, v)) − from(p) (bilinear; 0 where the match falls outside
 * `to`), rounded to f32 as the error plane stores it; then r = gx·u + gy·v − e, prod = gx·r, tmp = gy·r. Two pixels
 * of a row at a time.
 */
function residuals(from: usize, to: usize, w: i32, h: i32, u: usize, v: usize, gx: usize, gy: usize, prod: usize, tmp: usize): void {
  const wl = <f64>(w - 1);
  const hl = <f64>(h - 1);
  const vwl = f64x2.splat(wl);
  const vhl = f64x2.splat(hl);
  const pairs = w & ~1;
  let i: usize = 0;
  for (let y = 0; y < h; y++) {
    const vy = f64x2.splat(<f64>y);
    let x = 0;
    for (; x < pairs; x += 2, i += 2) {
      const ui = ld2(u, i);
      const vi = ld2(v, i);
      const tx = f64x2.add(f64x2.replace_lane(f64x2.splat(<f64>x), 1, <f64>(x + 1)), ui);
      const ty = f64x2.add(vy, vi);
      const e = warp2(from, to, w, h, i, tx, ty, vwl, vhl);
      const g = ld2(gx, i);
      const k = ld2(gy, i);
      const r = f64x2.sub(f64x2.add(f64x2.mul(g, ui), f64x2.mul(k, vi)), e);
      st2(prod, i, f64x2.mul(g, r));
      st2(tmp, i, f64x2.mul(k, r));
    }
    for (; x < w; x++, i++) {
      const ui = ld(u, i);
      const vi = ld(v, i);
      const tx = <f64>x + ui;
      const ty = <f64>y + vi;
      const e = tx >= 0 && ty >= 0 && tx <= wl && ty <= hl ? <f64>(<f32>warpAt(from, to, w, h, i, tx, ty)) : 0;
      const g = ld(gx, i);
      const k = ld(gy, i);
      const r = g * ui + k * vi - e;
      st(prod, i, g * r);
      st(tmp, i, k * r);
    }
  }
}

/** refineLevel()'s solve of every pixel's regularised 2×2 system, two pixels at a time. */
function solve(n: usize, u: usize, v: usize, sxx: usize, sxy: usize, syy: usize, bx: usize, by: usize, reg: f64): void {
  const rg = f64x2.splat(reg);
  let i: usize = 0;
  for (; i + 2 <= n; i += 2) {
    const a = f64x2.add(ld2(sxx, i), rg);
    const c = f64x2.add(ld2(syy, i), rg);
    const b = ld2(sxy, i);
    const det = f64x2.sub(f64x2.mul(a, c), f64x2.mul(b, b));
    const rx = f64x2.add(ld2(bx, i), f64x2.mul(rg, ld2(u, i)));
    const ry = f64x2.add(ld2(by, i), f64x2.mul(rg, ld2(v, i)));
    st2(u, i, f64x2.div(f64x2.sub(f64x2.mul(c, rx), f64x2.mul(b, ry)), det));
    st2(v, i, f64x2.div(f64x2.sub(f64x2.mul(a, ry), f64x2.mul(b, rx)), det));
  }
  for (; i < n; i++) {
    const a = ld(sxx, i) + reg;
    const c = ld(syy, i) + reg;
    const b = ld(sxy, i);
    const det = a * c - b * b;
    const rx = ld(bx, i) + reg * ld(u, i);
    const ry = ld(by, i) + reg * ld(v, i);
    st(u, i, (c * rx - b * ry) / det);
    st(v, i, (a * ry - b * rx) / det);
  }
}

/**
 * refineLevel(): refines (u, v) on one level in place, `iterations` Gauss–Newton steps with windows of radius r and
 * the Tikhonov term lambda·(2r+1)². The template's planes from templateLevel(); `work` holds five f32 planes
 * (tmp, prod, bx, by, scratch) and then w f64 (the box sums' column sums).
 */
export function refineLevel(
  from: usize,
  to: usize,
  w: i32,
  h: i32,
  u: usize,
  v: usize,
  gx: usize,
  gy: usize,
  sxx: usize,
  sxy: usize,
  syy: usize,
  r: i32,
  iterations: i32,
  lambda: f64,
  work: usize,
): void {
  const n = <usize>w * <usize>h;
  const tmp = work;
  const prod = tmp + (n << 2);
  const bx = prod + (n << 2);
  const by = bx + (n << 2);
  const scratch = by + (n << 2);
  const cols = scratch + (n << 2);
  const side = <f64>(2 * r + 1);
  const reg = lambda * (side * side);
  for (let it = 0; it < iterations; it++) {
    residuals(from, to, w, h, u, v, gx, gy, prod, tmp);
    boxSum(prod, w, h, r, scratch, bx, cols);
    boxSum(tmp, w, h, r, scratch, by, cols);
    solve(n, u, v, sxx, sxy, syy, bx, by, reg);
  }
}

/**
 * One coarse row `cy` of u and of v interpolated across at the fine columns (upsampleFlow()'s ua/ub before the
 * vertical step, f64 as JavaScript keeps them): (u, v) of column x at hu + 8x, hv + 8x. The columns' x0 (i32) and
 * fx (f64) are at cx0 and cfx.
 */
@inline function crossRow(u: usize, v: usize, cw: i32, cy: i32, w: i32, cx0: usize, cfx: usize, hu: usize, hv: usize): void {
  const row = <usize>cy * <usize>cw;
  for (let x: usize = 0; x < <usize>w; x++) {
    const x0 = load<i32>(cx0 + (x << 2));
    const fx = load<f64>(cfx + (x << 3));
    const j00 = row + <usize>x0;
    const j01 = x0 < cw - 1 ? j00 + 1 : j00;
    const u00 = ld(u, j00);
    const v00 = ld(v, j00);
    store<f64>(hu + (x << 3), u00 + (ld(u, j01) - u00) * fx);
    store<f64>(hv + (x << 3), v00 + (ld(v, j01) - v00) * fx);
  }
}

/** a + (b − a)·f, divided by s, of row planes a and b (f64) into f32 plane `out` from index i: w values. */
@inline function downRow(a: usize, b: usize, f: f64, s: f64, w: i32, out: usize, i: usize): void {
  const vf = f64x2.splat(f);
  const vs = f64x2.splat(s);
  let x: usize = 0;
  for (; x + 2 <= <usize>w; x += 2) {
    const va = v128.load(a + (x << 3));
    const vb = v128.load(b + (x << 3));
    st2(out, i + x, f64x2.div(f64x2.add(va, f64x2.mul(f64x2.sub(vb, va), vf)), vs));
  }
  for (; x < <usize>w; x++) {
    const ua = load<f64>(a + (x << 3));
    st(out, i + x, (ua + (load<f64>(b + (x << 3)) - ua) * f) / s);
  }
}

/**
 * upsampleFlow(): the cw×ch flow (u, v) bilinearly upsampled to w×h into (fu, fv), displacements scaled. Each
 * coarse row is interpolated across once (crossRow) and kept while the fine rows between it and the next use it;
 * `work` holds 4w f64 (two coarse rows of u and of v), w f64 and w i32 (the columns' fractions and corners).
 */
export function upsampleFlow(u: usize, v: usize, cw: i32, ch: i32, w: i32, h: i32, fu: usize, fv: usize, work: usize): void {
  const sx = <f64>cw / <f64>w;
  const sy = <f64>ch / <f64>h;
  const cwl = <f64>(cw - 1);
  const chl = <f64>(ch - 1);
  const row8 = <usize>w << 3;
  let top = work;
  let bottom = work + 2 * row8;
  const cfx = work + 4 * row8;
  const cx0 = cfx + row8;
  for (let x = 0; x < w; x++) {
    const cx = max<f64>(0, min<f64>((<f64>x + 0.5) * sx - 0.5, cwl));
    const x0f = Math.floor(cx);
    store<i32>(cx0 + (<usize>x << 2), <i32>x0f);
    store<f64>(cfx + (<usize>x << 3), cx - x0f);
  }
  // The coarse rows in `top` and `bottom` (−1: none yet).
  let topRow = -1;
  let bottomRow = -1;
  for (let y = 0; y < h; y++) {
    const cy = max<f64>(0, min<f64>((<f64>y + 0.5) * sy - 0.5, chl));
    const y0f = Math.floor(cy);
    const y0 = <i32>y0f;
    const fy = cy - y0f;
    const y1 = y0 < ch - 1 ? y0 + 1 : y0;
    if (topRow != y0) {
      if (bottomRow == y0) {
        const t = top;
        top = bottom;
        bottom = t;
        bottomRow = -1;
      } else crossRow(u, v, cw, y0, w, cx0, cfx, top, top + row8);
      topRow = y0;
    }
    if (bottomRow != y1) {
      if (y1 == y0) memory.copy(bottom, top, 2 * row8);
      else crossRow(u, v, cw, y1, w, cx0, cfx, bottom, bottom + row8);
      bottomRow = y1;
    }
    const i = <usize>y * <usize>w;
    downRow(top, bottom, fy, sx, w, fu, i);
    downRow(top + row8, bottom + row8, fy, sy, w, fv, i);
  }
}

/**
 * motion.ts consistentMask() of the w×h flows back (bu, bv) and fwd (fu, fv): 1 where following the backward flow
 * and then the forward flow returns to the start, 0 elsewhere (and where a vector is not a number or leads out of
 * the frame), for the pixels of the rectangle (rx, ry, rw, rh); the others get `outside`. The mask (w×h bytes) at
 * `ok`. The TypeScript's f64 arithmetic on the f32 values, in its order.
 */
export function consistentMask(
  bu: usize, bv: usize, fu: usize, fv: usize, w: i32, h: i32,
  rx: i32, ry: i32, rw: i32, rh: i32, outside: i32, ok: usize,
): void {
  memory.fill(ok, <u8>outside, <usize>w * <usize>h);
  const right: f64 = w - 1;
  const bottom: f64 = h - 1;
  for (let y = ry; y < ry + rh; y++) {
    const row = <usize>y * <usize>w;
    let x = rx;
    for (; x + 1 < rx + rw; x += 2) consistent2(bu, bv, fu, fv, w, h, x, y, row + <usize>x, ok);
    for (; x < rx + rw; x++) {
      const i = row + <usize>x;
      const u = ld(bu, i);
      const v = ld(bv, i);
      const qx = <f64>x + u;
      const qy = <f64>y + v;
      // A vector that is not a number fails every comparison, and is inconsistent (as in the TypeScript).
      const inside = qx >= 0 && qy >= 0 && qx <= right && qy <= bottom;
      store<u8>(ok + i, inside ? consistentAt(fu, fv, w, h, qx, qy, u, v) : 0);
    }
  }
}

/** Two f32 values of plane p, at indices j and k, as f64 lanes. */
@inline function gather2(p: usize, j: usize, k: usize): v128 {
  return f64x2.replace_lane(f64x2.splat(ld(p, j)), 1, ld(p, k));
}

/**
 * consistentAt() of pixels i and i + 1 ((x, y) and (x + 1, y)) in f64x2, lane for lane the scalar operations. A lane
 * whose vector leads out of the frame (or is not a number) samples at (0, 0) and is 0.
 */
@inline function consistent2(bu: usize, bv: usize, fu: usize, fv: usize, w: i32, h: i32, x: i32, y: i32, i: usize, ok: usize): void {
  const u = ld2(bu, i);
  const v = ld2(bv, i);
  const qx = f64x2.add(f64x2.replace_lane(f64x2.splat(<f64>x), 1, <f64>(x + 1)), u);
  const qy = f64x2.add(f64x2.splat(<f64>y), v);
  const zero = f64x2.splat(0);
  const inside = v128.and(
    v128.and(f64x2.ge(qx, zero), f64x2.ge(qy, zero)),
    v128.and(f64x2.le(qx, f64x2.splat(<f64>(w - 1))), f64x2.le(qy, f64x2.splat(<f64>(h - 1)))),
  );
  // Outside: +0 (all bits clear), a place to sample.
  const sx = v128.and(qx, inside);
  const sy = v128.and(qy, inside);
  const fx0 = f64x2.floor(sx);
  const fy0 = f64x2.floor(sy);
  const fx = f64x2.sub(sx, fx0);
  const fy = f64x2.sub(sy, fy0);
  const ix = i32x4.trunc_sat_f64x2_s_zero(fx0);
  const iy = i32x4.trunc_sat_f64x2_s_zero(fy0);
  const a0 = i32x4.extract_lane(ix, 0);
  const b0 = i32x4.extract_lane(iy, 0);
  const a1 = i32x4.extract_lane(ix, 1);
  const b1 = i32x4.extract_lane(iy, 1);
  const p00 = <usize>b0 * <usize>w + <usize>a0;
  const p01 = a0 < w - 1 ? p00 + 1 : p00;
  const p10 = b0 < h - 1 ? p00 + <usize>w : p00;
  const p11 = p10 + (p01 - p00);
  const q00 = <usize>b1 * <usize>w + <usize>a1;
  const q01 = a1 < w - 1 ? q00 + 1 : q00;
  const q10 = b1 < h - 1 ? q00 + <usize>w : q00;
  const q11 = q10 + (q01 - q00);
  // Away from the right edge, a corner's right neighbour is the next value: both read at once.
  const apart = a0 < w - 1 && a1 < w - 1;
  const su = apart ? bilinearPairs(fu, p00, p10, q00, q10, fx, fy) : bilinear2(fu, p00, p01, p10, p11, q00, q01, q10, q11, fx, fy);
  const sv = apart ? bilinearPairs(fv, p00, p10, q00, q10, fx, fy) : bilinear2(fv, p00, p01, p10, p11, q00, q01, q10, q11, fx, fy);
  const du = f64x2.add(u, su);
  const dv = f64x2.add(v, sv);
  const lhs = f64x2.add(f64x2.mul(du, du), f64x2.mul(dv, dv));
  const sum = f64x2.add(f64x2.add(f64x2.add(f64x2.mul(u, u), f64x2.mul(v, v)), f64x2.mul(su, su)), f64x2.mul(sv, sv));
  const rhs = f64x2.add(f64x2.mul(f64x2.splat(0.01), sum), f64x2.splat(0.5));
  const pass = v128.and(f64x2.le(lhs, rhs), inside);
  store<u8>(ok + i, <u8>(i64x2.extract_lane(pass, 0) & 1));
  store<u8>(ok + i + 1, <u8>(i64x2.extract_lane(pass, 1) & 1));
}

/** bilinear2() where each left corner's right neighbour is the next value (p01 = p00 + 1, …): read as pairs. */
@inline function bilinearPairs(p: usize, p00: usize, p10: usize, q00: usize, q10: usize, fx: v128, fy: v128): v128 {
  const top0 = ld2(p, p00);
  const top1 = ld2(p, q00);
  const bottom0 = ld2(p, p10);
  const bottom1 = ld2(p, q10);
  return lerp2(
    v128.shuffle<i64>(top0, top1, 0, 2), v128.shuffle<i64>(top0, top1, 1, 3),
    v128.shuffle<i64>(bottom0, bottom1, 0, 2), v128.shuffle<i64>(bottom0, bottom1, 1, 3), fx, fy,
  );
}

/** The bilinear interpolation of the corners c00, c01 (right), c10 (below), c11 in consistentAt()'s order. */
@inline function lerp2(c00: v128, c01: v128, c10: v128, c11: v128, fx: v128, fy: v128): v128 {
  const a = f64x2.add(c00, f64x2.mul(f64x2.sub(c01, c00), fx));
  const b = f64x2.add(c10, f64x2.mul(f64x2.sub(c11, c10), fx));
  return f64x2.add(a, f64x2.mul(f64x2.sub(b, a), fy));
}

/** The bilinear sample of plane p at two points (corners p.. and q.., fractions fx, fy), as consistentAt() takes it. */
@inline function bilinear2(
  p: usize, p00: usize, p01: usize, p10: usize, p11: usize,
  q00: usize, q01: usize, q10: usize, q11: usize, fx: v128, fy: v128,
): v128 {
  return lerp2(gather2(p, p00, q00), gather2(p, p01, q01), gather2(p, p10, q10), gather2(p, p11, q11), fx, fy);
}

/** One pixel's test: the forward flow sampled (bilinear) at (qx, qy), inside the frame, against the backward (u, v). */
@inline function consistentAt(fu: usize, fv: usize, w: i32, h: i32, qx: f64, qy: f64, u: f64, v: f64): u8 {
  const fx0 = Math.floor(qx);
  const fy0 = Math.floor(qy);
  const fx = qx - fx0;
  const fy = qy - fy0;
  const x0 = <i32>fx0;
  const y0 = <i32>fy0;
  const j00 = <usize>y0 * <usize>w + <usize>x0;
  const j01 = x0 < w - 1 ? j00 + 1 : j00;
  const j10 = y0 < h - 1 ? j00 + <usize>w : j00;
  const j11 = j10 + (j01 - j00);
  const ua = ld(fu, j00) + (ld(fu, j01) - ld(fu, j00)) * fx;
  const ub = ld(fu, j10) + (ld(fu, j11) - ld(fu, j10)) * fx;
  const su = ua + (ub - ua) * fy;
  const va = ld(fv, j00) + (ld(fv, j01) - ld(fv, j00)) * fx;
  const vb = ld(fv, j10) + (ld(fv, j11) - ld(fv, j10)) * fx;
  const sv = va + (vb - va) * fy;
  const du = u + su;
  const dv = v + sv;
  return du * du + dv * dv <= 0.01 * (u * u + v * v + su * su + sv * sv) + 0.5 ? 1 : 0;
}

/**
 * motion.ts changedBlocks(): the bounds of the 8×8 blocks (clipped at the edges) whose sum of |a − b| over the
 * w×h luma planes a and b is above level × the block's pixels, stored at `out` as four i32 (x0, y0, x1, y1: the
 * first and last column and row); returns 0 where none changed. `sums`: room for ⌈w/8⌉ i32. Whole numbers, so the
 * TypeScript's. SIMD: |a − b| of 16 bytes, their pairs' sums (u16, at most 8 rows × 510) down a block row.
 */
export function changedBlocks(a: usize, b: usize, w: i32, h: i32, level: i32, sums: usize, out: usize): i32 {
  const blocks = (w + 7) >> 3;
  const wide = w & ~15;
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let by = 0; by < h; by += 8) {
    const bh = min(8, h - by);
    blockRowSums(a, b, w, by, bh, wide, sums);
    for (let k = 0; k < blocks; k++) {
      const bx = k << 3;
      const bw = min(8, w - bx);
      if (load<i32>(sums + (<usize>k << 2)) <= level * bw * bh) continue;
      x0 = min(x0, bx);
      y0 = min(y0, by);
      x1 = max(x1, bx + bw - 1);
      y1 = max(y1, by + bh - 1);
    }
  }
  store<i32>(out, x0);
  store<i32>(out, y0, 4);
  store<i32>(out, x1, 8);
  store<i32>(out, y1, 12);
  return x1 < 0 ? 0 : 1;
}

/** Each 8-column block's sum of |a − b| over rows by..by + bh − 1, as i32 at `sums`. */
@inline function blockRowSums(a: usize, b: usize, w: i32, by: i32, bh: i32, wide: i32, sums: usize): void {
  for (let x = 0; x < wide; x += 16) {
    let acc = i16x8.splat(0);
    for (let y = by; y < by + bh; y++) {
      const i = <usize>y * <usize>w + <usize>x;
      const va = v128.load(a + i);
      const vb = v128.load(b + i);
      const d = v128.or(i8x16.sub_sat_u(va, vb), i8x16.sub_sat_u(vb, va));
      acc = i16x8.add(acc, i16x8.extadd_pairwise_i8x16_u(d));
    }
    const q = i32x4.extadd_pairwise_i16x8_u(acc);
    const k = sums + (<usize>(x >> 3) << 2);
    store<i32>(k, i32x4.extract_lane(q, 0) + i32x4.extract_lane(q, 1));
    store<i32>(k, i32x4.extract_lane(q, 2) + i32x4.extract_lane(q, 3), 4);
  }
  // The last columns (fewer than 16), one at a time.
  for (let bx = wide; bx < w; bx += 8) store<i32>(sums + (<usize>(bx >> 3) << 2), 0);
  for (let y = by; y < by + bh; y++)
    for (let x = wide; x < w; x++) {
      const i = <usize>y * <usize>w + <usize>x;
      const k = sums + (<usize>(x >> 3) << 2);
      store<i32>(k, load<i32>(k) + abs<i32>(<i32>load<u8>(a + i) - <i32>load<u8>(b + i)));
    }
}
