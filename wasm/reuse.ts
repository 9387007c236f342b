// AssemblyScript: the reuse test's per-tile measures (src/engine/temporal/tile-change.ts), compiled by
// `npm run build:wasm` into src/engine/temporal/reuse-wasm.ts and driven by reuse-simd.ts. Each computes what its
// TypeScript original computes, to the bit: the sums are whole numbers (exact in any order, here in i32), every
// division and comparison the TypeScript does on numbers is done in f64 in its order, and a value the TypeScript
// stores in a Float32Array is rounded to f32 here. The caller lays out the memory; RGB24 frames are followed by
// 16 bytes of padding (a vector reads up to 4 bytes past a row's last pixel).

/** tile-change.ts PEAK_FACTOR. */
const PEAK_FACTOR: f64 = 6;
/** tile-change.ts MEDIAN_LEVELS. */
const MEDIAN_LEVELS: i32 = 64;
/** tileMedians()'s mark of a tile it leaves to the TypeScript (a span of MEDIAN_LEVELS or more, a huge or NaN value). */
const UNSOLVED: i32 = i32.MIN_VALUE;

/** |Δ| summed over the three channels of one pixel (cur at i, ref at j). */
@inline function absDiff3(cur: usize, ref: usize, i: usize, j: usize): i32 {
  return (
    abs<i32>(<i32>load<u8>(cur + i) - <i32>load<u8>(ref + j)) +
    abs<i32>(<i32>load<u8>(cur + i + 1) - <i32>load<u8>(ref + j + 1)) +
    abs<i32>(<i32>load<u8>(cur + i + 2) - <i32>load<u8>(ref + j + 2))
  );
}

/** Per byte |a − b| of 16 bytes at cur + i and ref + j. */
@inline function absBytes(cur: usize, ref: usize, i: usize, j: usize): v128 {
  const a = v128.load(cur + i);
  const b = v128.load(ref + j);
  return i8x16.sub(i8x16.max_u(a, b), i8x16.min_u(a, b));
}

/**
 * Two whole 2×2 patches side by side (4 pixels, 12 bytes, rows at i and i + stride; ref at + shift): lane 0 of the
 * result is the first patch's |Δ| sum, lane 3 the second's (i16x8).
 */
@inline function patchPair(cur: usize, ref: usize, i: usize, shift: isize, stride: usize): v128 {
  const j = <usize>(<isize>i + shift);
  const p = i16x8.add(
    i16x8.extadd_pairwise_i8x16_u(absBytes(cur, ref, i, j)),
    i16x8.extadd_pairwise_i8x16_u(absBytes(cur, ref, i + stride, j + stride)),
  );
  return i16x8.add(i16x8.add(p, i16x8.shuffle(p, p, 1, 2, 3, 4, 5, 6, 7, 0)), i16x8.shuffle(p, p, 2, 3, 4, 5, 6, 7, 0, 1));
}

/** tileChange(): the box (x, y, w, h) of `cur` against `ref` at box + (dx, dy), frames `width` pixels wide. */
export function tileChangeAt(cur: usize, ref: usize, width: i32, x: i32, y: i32, w: i32, h: i32, dx: i32, dy: i32): f64 {
  const stride = <usize>width * 3;
  const shift = <isize>dy * <isize>stride + <isize>dx * 3;
  const xEnd = x + w;
  const yEnd = y + h;
  const fullW = w & ~1;
  let total: i32 = 0;
  let fullPeak: i32 = 0;
  for (let yy = y; yy + 1 < yEnd; yy += 2) {
    let i = <usize>yy * stride + <usize>x * 3;
    const end = i + <usize>fullW * 3;
    for (; i + 12 <= end; i += 12) {
      const q = patchPair(cur, ref, i, shift, stride);
      const a = <i32>i16x8.extract_lane_u(q, 0);
      const b = <i32>i16x8.extract_lane_u(q, 3);
      total += a + b;
      fullPeak = max(fullPeak, max(a, b));
    }
    if (i < end) {
      const j = <usize>(<isize>i + shift);
      const patch =
        absDiff3(cur, ref, i, j) +
        absDiff3(cur, ref, i + 3, j + 3) +
        absDiff3(cur, ref, i + stride, j + stride) +
        absDiff3(cur, ref, i + stride + 3, j + stride + 3);
      total += patch;
      fullPeak = max(fullPeak, patch);
    }
  }
  let peak: f64 = <f64>fullPeak / 12;
  // The clipped patches, as tileChange() takes them.
  const lastX = w & 1 ? xEnd - 1 : xEnd;
  if (lastX < xEnd)
    for (let yy = y; yy + 1 < yEnd; yy += 2) {
      const i = <usize>yy * stride + <usize>lastX * 3;
      const j = <usize>(<isize>i + shift);
      const patch = absDiff3(cur, ref, i, j) + absDiff3(cur, ref, i + stride, j + stride);
      total += patch;
      if (<f64>patch / 6 > peak) peak = <f64>patch / 6;
    }
  if (h & 1) {
    const row = <usize>(yEnd - 1) * stride;
    for (let xx = x; xx < lastX; xx += 2) {
      const i = row + <usize>xx * 3;
      const j = <usize>(<isize>i + shift);
      const patch = absDiff3(cur, ref, i, j) + absDiff3(cur, ref, i + 3, j + 3);
      total += patch;
      if (<f64>patch / 6 > peak) peak = <f64>patch / 6;
    }
    if (lastX < xEnd) {
      const i = row + <usize>lastX * 3;
      const patch = absDiff3(cur, ref, i, <usize>(<isize>i + shift));
      total += patch;
      if (<f64>patch / 3 > peak) peak = <f64>patch / 3;
    }
  }
  return max<f64>(<f64>total / (<f64>w * <f64>h * 3), peak / PEAK_FACTOR);
}

/** tileChange() in place of every tile of a width×height frame (row-major, `tile` pixels), as f32 into `levels`. */
export function tileChanges(cur: usize, ref: usize, width: i32, height: i32, tile: i32, levels: usize): void {
  let k: usize = 0;
  for (let y = 0; y < height; y += tile)
    for (let x = 0; x < width; x += tile, k++) {
      const level = tileChangeAt(cur, ref, width, x, y, min(tile, width - x), min(tile, height - y), 0, 0);
      store<f32>(levels + (k << 2), <f32>level);
    }
}

/**
 * Two whole 2×2 cells side by side (4 pixels, 12 bytes, rows at i and i + stride; ref at + shift): their signed
 * sums per channel, stored as i16 at `at` (first cell's r, g, b, then the second's; 4 bytes more are overwritten).
 */
@inline function cellPair(cur: usize, ref: usize, i: usize, shift: isize, stride: usize, at: usize): void {
  const j = <usize>(<isize>i + shift);
  const c0 = v128.load(cur + i);
  const r0 = v128.load(ref + j);
  const c1 = v128.load(cur + i + stride);
  const r1 = v128.load(ref + j + stride);
  const lo = i16x8.sub(
    i16x8.add(i16x8.extend_low_i8x16_u(c0), i16x8.extend_low_i8x16_u(c1)),
    i16x8.add(i16x8.extend_low_i8x16_u(r0), i16x8.extend_low_i8x16_u(r1)),
  );
  const hi = i16x8.sub(
    i16x8.add(i16x8.extend_high_i8x16_u(c0), i16x8.extend_high_i8x16_u(c1)),
    i16x8.add(i16x8.extend_high_i8x16_u(r0), i16x8.extend_high_i8x16_u(r1)),
  );
  // Bytes c and c + 3 make the first cell's channel c, bytes 6 + c and 9 + c the second's.
  const first = i16x8.shuffle(lo, hi, 0, 1, 2, 6, 7, 8, 0, 0);
  const second = i16x8.shuffle(lo, hi, 3, 4, 5, 9, 10, 11, 0, 0);
  v128.store(at, i16x8.add(first, second));
}

/** The signed sums per channel of the cell x0..x1 × y0..y1 (pixels), stored as i16 at `at`. */
function partialCell(cur: usize, ref: usize, stride: usize, shift: isize, x0: i32, x1: i32, y0: i32, y1: i32, at: usize): void {
  let r: i32 = 0;
  let g: i32 = 0;
  let b: i32 = 0;
  for (let yy = y0; yy < y1; yy++) {
    for (let i = <usize>yy * stride + <usize>x0 * 3, end = <usize>yy * stride + <usize>x1 * 3; i < end; i += 3) {
      const j = <usize>(<isize>i + shift);
      r += <i32>load<u8>(cur + i) - <i32>load<u8>(ref + j);
      g += <i32>load<u8>(cur + i + 1) - <i32>load<u8>(ref + j + 1);
      b += <i32>load<u8>(cur + i + 2) - <i32>load<u8>(ref + j + 2);
    }
  }
  store<i16>(at, <i16>r);
  store<i16>(at + 2, <i16>g);
  store<i16>(at + 4, <i16>b);
}

/**
 * tileWindowChange(): the box of `cur` against `ref` at box + (dx, dy). `cells` is scratch for the tile's 2×2
 * cells: 6 bytes of sums and 1 byte of count each, plus 16.
 */
export function tileWindowChangeAt(
  cur: usize,
  ref: usize,
  width: i32,
  x: i32,
  y: i32,
  w: i32,
  h: i32,
  dx: i32,
  dy: i32,
  cells: usize,
): f64 {
  const stride = <usize>width * 3;
  const shift = <isize>dy * <isize>stride + <isize>dx * 3;
  const cw = (w + 1) >> 1;
  const ch = (h + 1) >> 1;
  const counts = cells + <usize>(cw * ch) * 6 + 16;
  const wholeW = w >> 1;
  for (let cy = 0; cy < ch; cy++) {
    const y0 = y + cy * 2;
    const y1 = min(y0 + 2, y + h);
    const row = cells + <usize>(cy * cw) * 6;
    let cx = 0;
    if (y1 - y0 == 2) {
      const i = <usize>y0 * stride + <usize>x * 3;
      for (; cx + 2 <= wholeW; cx += 2) cellPair(cur, ref, i + <usize>cx * 6, shift, stride, row + <usize>cx * 6);
    }
    for (; cx < cw; cx++) {
      const x0 = x + cx * 2;
      partialCell(cur, ref, stride, shift, x0, min(x0 + 2, x + w), y0, y1, row + <usize>cx * 6);
    }
  }
  if (((w | h) & 1) == 0 && cw > 1 && ch > 1) return wholeWindowPeak(cells, cw, ch);
  for (let cy = 0; cy < ch; cy++) {
    const rows = min(2, h - cy * 2);
    for (let cx = 0; cx < cw; cx++) store<u8>(counts + <usize>(cy * cw + cx), <u8>(rows * min(2, w - cx * 2)));
  }
  return windowPeak(cells, counts, cw, ch);
}

/**
 * windowPeak() of a tile of whole cells, at least 2 × 2 of them: every window has 16 pixels, so its largest mean is
 * the largest |sum| / 16 (dividing by 16 is exact and keeps the order). The sums of four cells fit i16.
 */
function wholeWindowPeak(cells: usize, cw: i32, ch: i32): f64 {
  // Per row of windows, 3 (cw − 1) sums: channel sums of cells a and a + 1 side by side are 3 i16 apart.
  const lanes = 3 * (cw - 1);
  const iota = v128(0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0);
  let m = i16x8.splat(0);
  for (let wy = 0; wy < ch - 1; wy++) {
    const a = cells + <usize>(wy * cw) * 6;
    const c = a + <usize>cw * 6;
    for (let j = 0; j < lanes; j += 8) {
      const at = <usize>j << 1;
      const s = i16x8.add(
        i16x8.add(v128.load(a + at), v128.load(a + at + 6)),
        i16x8.add(v128.load(c + at), v128.load(c + at + 6)),
      );
      // Lanes past the row's sums read other cells (or the padding): left out.
      const valid = i16x8.lt_s(iota, i16x8.splat(<i16>(lanes - j)));
      m = i16x8.max_s(m, v128.and(i16x8.abs(s), valid));
    }
  }
  m = i16x8.max_s(m, i16x8.shuffle(m, m, 4, 5, 6, 7, 0, 1, 2, 3));
  m = i16x8.max_s(m, i16x8.shuffle(m, m, 2, 3, 0, 1, 2, 3, 0, 1));
  return <f64>max(i16x8.extract_lane_s(m, 0), i16x8.extract_lane_s(m, 1)) / 16;
}

/** Cell a's channel k sum (a in cells, 3 i16 sums per cell). */
@inline function sumAt(cells: usize, a: i32, k: i32): i32 {
  return <i32>load<i16>(cells + <usize>(a * 3 + k) * 2);
}

/** tile-change.ts windowPeak(), from the cells' i16 sums and u8 counts. */
function windowPeak(cells: usize, counts: usize, cw: i32, ch: i32): f64 {
  let peak: f64 = 0;
  if (cw > 1 && ch > 1) {
    for (let wy = 0; wy < ch - 1; wy++)
      for (let a = wy * cw, end = a + cw - 1; a < end; a++) {
        const c = a + cw;
        const n = <f64>(
          <i32>load<u8>(counts + <usize>a) +
          <i32>load<u8>(counts + <usize>(a + 1)) +
          <i32>load<u8>(counts + <usize>c) +
          <i32>load<u8>(counts + <usize>(c + 1))
        );
        for (let k = 0; k < 3; k++) {
          const s = sumAt(cells, a, k) + sumAt(cells, a + 1, k) + sumAt(cells, c, k) + sumAt(cells, c + 1, k);
          const mean = <f64>abs<i32>(s) / n;
          if (mean > peak) peak = mean;
        }
      }
    return peak;
  }
  for (let wy = 0; wy < max(1, ch - 1); wy++) {
    const y1 = min(wy + 1, ch - 1);
    for (let wx = 0; wx < max(1, cw - 1); wx++) {
      const x1 = min(wx + 1, cw - 1);
      const a = wy * cw + wx;
      const b = wy * cw + x1;
      const c = y1 * cw + wx;
      const d = y1 * cw + x1;
      const right = x1 != wx;
      const down = y1 != wy;
      const n = <f64>(
        <i32>load<u8>(counts + <usize>a) +
        (right ? <i32>load<u8>(counts + <usize>b) : 0) +
        (down ? <i32>load<u8>(counts + <usize>c) : 0) +
        (right && down ? <i32>load<u8>(counts + <usize>d) : 0)
      );
      for (let k = 0; k < 3; k++) {
        const s =
          sumAt(cells, a, k) +
          (right ? sumAt(cells, b, k) : 0) +
          (down ? sumAt(cells, c, k) : 0) +
          (right && down ? sumAt(cells, d, k) : 0);
        const mean = <f64>abs<i32>(s) / n;
        if (mean > peak) peak = mean;
      }
    }
  }
  return peak;
}

/**
 * grainMeasures()'s loop for every tile: `windows` ← tileWindowChange in place; where the tile's shift (dxs, dys:
 * i32) is not zero and the moved box lies inside the frame, `moved` (f64) ← tileChange at the shift, and where that
 * is below `levels` (f32), `residual` ← it and `residualWindows` ← tileWindowChange at the shift; else `moved` ←
 * NaN, `residual` ← levels, `residualWindows` ← windows. `cells`: tileWindowChangeAt()'s scratch for one tile.
 */
export function grainMeasures(
  cur: usize,
  ref: usize,
  width: i32,
  height: i32,
  tile: i32,
  dxs: usize,
  dys: usize,
  levels: usize,
  windows: usize,
  moved: usize,
  residual: usize,
  residualWindows: usize,
  cells: usize,
): void {
  let k: usize = 0;
  for (let y = 0; y < height; y += tile)
    for (let x = 0; x < width; x += tile, k++) {
      const w = min(tile, width - x);
      const h = min(tile, height - y);
      const window = <f32>tileWindowChangeAt(cur, ref, width, x, y, w, h, 0, 0, cells);
      const level = load<f32>(levels + (k << 2));
      store<f32>(windows + (k << 2), window);
      store<f32>(residual + (k << 2), level);
      store<f32>(residualWindows + (k << 2), window);
      store<f64>(moved + (k << 3), NaN);
      const dx = load<i32>(dxs + (k << 2));
      const dy = load<i32>(dys + (k << 2));
      if (dx == 0 && dy == 0) continue;
      if (x + dx < 0 || y + dy < 0 || x + w + dx > width || y + h + dy > height) continue;
      const m = tileChangeAt(cur, ref, width, x, y, w, h, dx, dy);
      store<f64>(moved + (k << 3), m);
      if (m >= <f64>level) continue;
      store<f32>(residual + (k << 2), <f32>m);
      store<f32>(residualWindows + (k << 2), <f32>tileWindowChangeAt(cur, ref, width, x, y, w, h, dx, dy, cells));
    }
}

/**
 * Math.round of four f32 values: floor, plus one where the fraction v − floor(v) is at least a half. The fraction is
 * exact in f32 (|v| ≥ 1: Sterbenz; −1 < v < −0.5: v + 1 has v's bits; elsewhere it is at least a half, or v
 * itself), so the comparison is Math.round's.
 */
@inline function round4(v: v128): v128 {
  const f = f32x4.floor(v);
  return i32x4.sub(i32x4.trunc_sat_f32x4_s(f), f32x4.ge(f32x4.sub(v, f), f32x4.splat(0.5)));
}

/** The smallest lane of four i32. */
@inline function minLane(m: v128): i32 {
  const a = i32x4.min_s(m, i32x4.shuffle(m, m, 2, 3, 0, 1));
  return min(i32x4.extract_lane(a, 0), i32x4.extract_lane(a, 1));
}

/** The largest lane of four i32. */
@inline function maxLane(m: v128): i32 {
  const a = i32x4.max_s(m, i32x4.shuffle(m, m, 2, 3, 0, 1));
  return max(i32x4.extract_lane(a, 0), i32x4.extract_lane(a, 1));
}

/**
 * roundedTileMedian() of one tile of the f32 plane p (row-major, `width` wide), its rounded values into `scratch`
 * (i32, the tile's pixels, rounded up to a multiple of 4); UNSOLVED where their span is MEDIAN_LEVELS or more or a
 * value is not a number or above 2²⁰ in size (the TypeScript selects those). The median of the rounded values (the
 * upper one: index ⌊n/2⌋ sorted) is the least value v with more than ⌊n/2⌋ of them at most v.
 */
function tileMedian(p: usize, width: i32, x: i32, y: i32, w: i32, h: i32, scratch: usize): i32 {
  const limit = f32x4.splat(1048576);
  let lo = i32x4.splat(i32.MAX_VALUE);
  let hi = i32x4.splat(i32.MIN_VALUE);
  let j: usize = 0;
  // All lanes set while every value is a number of at most 2²⁰ in size.
  let ok = i32x4.splat(-1);
  const quads = w & ~3;
  for (let yy = 0; yy < h; yy++) {
    const row = p + ((<usize>(y + yy) * <usize>width + <usize>x) << 2);
    let xx = 0;
    for (; xx < quads; xx += 4, j += 4) {
      const v = v128.load(row + (<usize>xx << 2));
      ok = v128.and(ok, f32x4.le(f32x4.abs(v), limit));
      const r = round4(v);
      v128.store(scratch + (j << 2), r);
      lo = i32x4.min_s(lo, r);
      hi = i32x4.max_s(hi, r);
    }
    for (; xx < w; xx++, j++) {
      const v = load<f32>(row + (<usize>xx << 2));
      if (!(abs<f32>(v) <= 1048576)) ok = i32x4.splat(0);
      const r = round4(f32x4.splat(v));
      store<i32>(scratch + (j << 2), i32x4.extract_lane(r, 0));
      lo = i32x4.min_s(lo, r);
      hi = i32x4.max_s(hi, r);
    }
  }
  if (!i32x4.all_true(ok)) return UNSOLVED;
  const least = minLane(lo);
  const most = maxLane(hi);
  if (most - least >= MEDIAN_LEVELS) return UNSOLVED;
  // The last vector's lanes past the tile count for no value.
  for (; (j & 3) != 0; j++) store<i32>(scratch + (j << 2), i32.MAX_VALUE);
  const k = (w * h) >> 1;
  let v = least;
  for (; v < most; v++) {
    const at = i32x4.splat(v);
    let count = i32x4.splat(0);
    for (let q: usize = 0; q < j; q += 4) count = i32x4.sub(count, i32x4.le_s(v128.load(scratch + (q << 2)), at));
    const a = i32x4.add(count, i32x4.shuffle(count, count, 2, 3, 0, 1));
    if (i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) > k) break;
  }
  return v;
}

/**
 * TileShifts' shifts for every tile: roundedTileMedian() of the flow's u and v planes (f32) into dxs and dys (i32),
 * UNSOLVED where the TypeScript must select. `scratch`: i32 × a tile's pixels (rounded up to a multiple of 4).
 */
export function tileMedians(u: usize, v: usize, width: i32, height: i32, tile: i32, dxs: usize, dys: usize, scratch: usize): void {
  let k: usize = 0;
  for (let y = 0; y < height; y += tile)
    for (let x = 0; x < width; x += tile, k++) {
      const w = min(tile, width - x);
      const h = min(tile, height - y);
      store<i32>(dxs + (k << 2), tileMedian(u, width, x, y, w, h, scratch));
      store<i32>(dys + (k << 2), tileMedian(v, width, x, y, w, h, scratch));
    }
}

/** lumaOf(): BT.709 luma of `n` pixels of packed RGB24 at `rgb` into `out` (16 pixels at a time: the sums fit u16). */
export function lumaPlane(rgb: usize, n: i32, out: usize): void {
  let p = 0;
  for (; p + 16 <= n; p += 16) {
    const at = rgb + <usize>p * 3;
    const v0 = v128.load(at);
    const v1 = v128.load(at + 16);
    const v2 = v128.load(at + 32);
    // Each channel's 16 bytes: pixels 0–10 (or 0–9) from the first two vectors, the rest from the third.
    const r = i8x16.shuffle(i8x16.shuffle(v0, v1, 0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 0, 0, 0, 0, 0), v2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17, 20, 23, 26, 29);
    const g = i8x16.shuffle(i8x16.shuffle(v0, v1, 1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 0, 0, 0, 0, 0), v2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 18, 21, 24, 27, 30);
    const b = i8x16.shuffle(i8x16.shuffle(v0, v1, 2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 0, 0, 0, 0, 0, 0), v2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 19, 22, 25, 28, 31);
    v128.store(out + <usize>p, i8x16.narrow_i16x8_u(lumaHalf(i16x8.extend_low_i8x16_u(r), i16x8.extend_low_i8x16_u(g), i16x8.extend_low_i8x16_u(b)), lumaHalf(i16x8.extend_high_i8x16_u(r), i16x8.extend_high_i8x16_u(g), i16x8.extend_high_i8x16_u(b))));
  }
  for (; p < n; p++) {
    const at = rgb + <usize>p * 3;
    store<u8>(out + <usize>p, (54 * <i32>load<u8>(at) + 183 * <i32>load<u8>(at + 1) + 19 * <i32>load<u8>(at + 2) + 128) >> 8);
  }
}

/** (54 r + 183 g + 19 b + 128) >> 8 of eight u16 lanes (at most 65408: no lane wraps). */
@inline function lumaHalf(r: v128, g: v128, b: v128): v128 {
  const s = i16x8.add(i16x8.add(i16x8.mul(r, i16x8.splat(54)), i16x8.mul(g, i16x8.splat(183))), i16x8.add(i16x8.mul(b, i16x8.splat(19)), i16x8.splat(128)));
  return i16x8.shr_u(s, 8);
}

/**
 * isSceneCut()'s sums of two luma planes of `n` bytes: returns Σ |cur − prev|; `hist` ← the 16-bin histograms of
 * cur >> 4 and prev >> 4 (i32 × 16 each).
 */
export function sceneCutSums(cur: usize, prev: usize, n: i32, hist: usize): f64 {
  memory.fill(hist, 0, 128);
  let total: f64 = 0;
  let i = 0;
  while (i + 16 <= n) {
    // At most 4 · 255 per i32 lane per vector: 2¹⁶ vectors at a time cannot wrap.
    const end = min(n & ~15, i + (1 << 20));
    let acc = i32x4.splat(0);
    for (; i < end; i += 16) {
      const d = absBytes(cur, prev, <usize>i, <usize>i);
      acc = i32x4.add(acc, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(d)));
    }
    total += <f64>(<u32>i32x4.extract_lane(acc, 0)) + <f64>(<u32>i32x4.extract_lane(acc, 1)) + <f64>(<u32>i32x4.extract_lane(acc, 2)) + <f64>(<u32>i32x4.extract_lane(acc, 3));
  }
  for (; i < n; i++) total += <f64>abs<i32>(<i32>load<u8>(cur + <usize>i) - <i32>load<u8>(prev + <usize>i));
  histogram(cur, n, hist);
  histogram(prev, n, hist + 64);
  return total;
}

/** The sum of the 16 u8 lanes of v. */
@inline function countLanes(v: v128): i32 {
  const q = i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(v));
  return i32x4.extract_lane(q, 0) + i32x4.extract_lane(q, 1) + i32x4.extract_lane(q, 2) + i32x4.extract_lane(q, 3);
}

/**
 * The 16-bin histogram of x >> 4 over `n` bytes at `plane` into `hist` (i32 × 16): per vector, for each bin b > 0,
 * its lanes with x ≥ 16 b counted in u8 lanes (at most 255 vectors at a time); bin b holds those of b but not b + 1.
 */
function histogram(plane: usize, n: i32, hist: usize): void {
  // hist[k] counts the bytes ≥ 16 k first (k = 1..15), then becomes bin k.
  memory.fill(hist, 0, 64);
  let i = 0;
  while (i + 16 <= n) {
    const end = min(n & ~15, i + 255 * 16);
    let a1 = i8x16.splat(0);
    let a2 = i8x16.splat(0);
    let a3 = i8x16.splat(0);
    let a4 = i8x16.splat(0);
    let a5 = i8x16.splat(0);
    let a6 = i8x16.splat(0);
    let a7 = i8x16.splat(0);
    let a8 = i8x16.splat(0);
    let a9 = i8x16.splat(0);
    let a10 = i8x16.splat(0);
    let a11 = i8x16.splat(0);
    let a12 = i8x16.splat(0);
    let a13 = i8x16.splat(0);
    let a14 = i8x16.splat(0);
    let a15 = i8x16.splat(0);
    for (; i < end; i += 16) {
      const v = v128.load(plane + <usize>i);
      a1 = i8x16.sub(a1, i8x16.ge_u(v, i8x16.splat(<i8>16)));
      a2 = i8x16.sub(a2, i8x16.ge_u(v, i8x16.splat(<i8>32)));
      a3 = i8x16.sub(a3, i8x16.ge_u(v, i8x16.splat(<i8>48)));
      a4 = i8x16.sub(a4, i8x16.ge_u(v, i8x16.splat(<i8>64)));
      a5 = i8x16.sub(a5, i8x16.ge_u(v, i8x16.splat(<i8>80)));
      a6 = i8x16.sub(a6, i8x16.ge_u(v, i8x16.splat(<i8>96)));
      a7 = i8x16.sub(a7, i8x16.ge_u(v, i8x16.splat(<i8>112)));
      a8 = i8x16.sub(a8, i8x16.ge_u(v, i8x16.splat(<i8>128)));
      a9 = i8x16.sub(a9, i8x16.ge_u(v, i8x16.splat(<i8>144)));
      a10 = i8x16.sub(a10, i8x16.ge_u(v, i8x16.splat(<i8>160)));
      a11 = i8x16.sub(a11, i8x16.ge_u(v, i8x16.splat(<i8>176)));
      a12 = i8x16.sub(a12, i8x16.ge_u(v, i8x16.splat(<i8>192)));
      a13 = i8x16.sub(a13, i8x16.ge_u(v, i8x16.splat(<i8>208)));
      a14 = i8x16.sub(a14, i8x16.ge_u(v, i8x16.splat(<i8>224)));
      a15 = i8x16.sub(a15, i8x16.ge_u(v, i8x16.splat(<i8>240)));
    }
    addAt(hist, 1, countLanes(a1));
    addAt(hist, 2, countLanes(a2));
    addAt(hist, 3, countLanes(a3));
    addAt(hist, 4, countLanes(a4));
    addAt(hist, 5, countLanes(a5));
    addAt(hist, 6, countLanes(a6));
    addAt(hist, 7, countLanes(a7));
    addAt(hist, 8, countLanes(a8));
    addAt(hist, 9, countLanes(a9));
    addAt(hist, 10, countLanes(a10));
    addAt(hist, 11, countLanes(a11));
    addAt(hist, 12, countLanes(a12));
    addAt(hist, 13, countLanes(a13));
    addAt(hist, 14, countLanes(a14));
    addAt(hist, 15, countLanes(a15));
  }
  for (; i < n; i++) {
    const x = <i32>load<u8>(plane + <usize>i);
    for (let k = 1; k <= x >> 4; k++) addAt(hist, k, 1);
  }
  let above = n;
  for (let k = 1; k <= 16; k++) {
    const next = k < 16 ? load<i32>(hist + (<usize>k << 2)) : 0;
    store<i32>(hist + (<usize>(k - 1) << 2), above - next);
    above = next;
  }
}

/** i32 k of `at` += x. */
@inline function addAt(at: usize, k: i32, x: i32): void {
  store<i32>(at + (<usize>k << 2), load<i32>(at + (<usize>k << 2)) + x);
}