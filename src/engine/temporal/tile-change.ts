/** A tile of the low-res frame, in pixels. */
export interface TileBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A 2×2 patch may differ this many times more than the tile's mean before the tile counts as changed. */
export const PEAK_FACTOR = 6;

/**
 * How much a low-res RGB24 tile changed between `ref` and `cur`, in 0..255 levels: the larger of the mean |Δ| over
 * the tile and the largest 2×2-patch mean |Δ| divided by PEAK_FACTOR. The mean ignores compression noise (small,
 * everywhere); the patch peak catches a small object moving inside a tile that barely moves the mean.
 * A tile is reused when this is ≤ the threshold. With a shift, `cur`'s tile is compared with `ref` at box + shift
 * (the box moved by (dx, dy) must lie inside the frame).
 */
export function tileChange(cur: Uint8Array, ref: Uint8Array, width: number, box: TileBox, dx = 0, dy = 0): number {
  const stride = width * 3;
  const shift = dy * stride + dx * 3;
  let total = 0;
  let peak = 0;
  for (let y = box.y; y < box.y + box.h; y += 2) {
    const y2 = Math.min(y + 1, box.y + box.h - 1);
    for (let x = box.x; x < box.x + box.w; x += 2) {
      const x2 = Math.min(x + 1, box.x + box.w - 1);
      let patch = 0;
      let count = 0;
      for (let yy = y; yy <= y2; yy++) {
        for (let xx = x; xx <= x2; xx++) {
          const i = yy * stride + xx * 3;
          const r = i + shift;
          patch += Math.abs(cur[i] - ref[r]) + Math.abs(cur[i + 1] - ref[r + 1]) + Math.abs(cur[i + 2] - ref[r + 2]);
          count += 3;
        }
      }
      total += patch;
      const mean = patch / count;
      if (mean > peak) peak = mean;
    }
  }
  return Math.max(total / (box.w * box.h * 3), peak / PEAK_FACTOR);
}

/** Side of the windows tileWindowChange() averages over, low-res pixels (they step by half of it). */
export const NOISE_WINDOW = 4;

/**
 * How much a low-res RGB24 tile changed between `ref` and `cur` once grain is averaged out: the largest |mean signed
 * Δ| of one colour channel over a 4×4 window, windows stepping by 2 pixels and clipped to the tile. Sensor grain and
 * codec noise are independent from frame to frame and (nearly) from pixel to pixel, so their signed differences
 * cancel in a window's mean (the mean |Δ| of tileChange() does not cancel them: grain of σ = 4 levels alone gives a
 * mean |Δ| of 4.5); a moving edge, hand or ball changes a window's mean coherently and survives. The box moved by
 * (dx, dy) must lie inside the frame, as for tileChange().
 */
export function tileWindowChange(
  cur: Uint8Array,
  ref: Uint8Array,
  width: number,
  box: TileBox,
  dx = 0,
  dy = 0,
): number {
  const stride = width * 3;
  const shift = dy * stride + dx * 3;
  const half = NOISE_WINDOW / 2;
  // Signed sums of 2×2 cells (clipped at the tile's edge), per channel, and their pixel counts.
  const cw = Math.ceil(box.w / half);
  const ch = Math.ceil(box.h / half);
  const sums = new Float64Array(cw * ch * 3);
  const counts = new Uint16Array(cw * ch);
  for (let y = box.y; y < box.y + box.h; y++) {
    const row = (((y - box.y) / half) | 0) * cw;
    for (let x = box.x; x < box.x + box.w; x++) {
      const cell = row + (((x - box.x) / half) | 0);
      const i = y * stride + x * 3;
      const r = i + shift;
      sums[cell * 3] += cur[i] - ref[r];
      sums[cell * 3 + 1] += cur[i + 1] - ref[r + 1];
      sums[cell * 3 + 2] += cur[i + 2] - ref[r + 2];
      counts[cell]++;
    }
  }
  // Windows of 2×2 cells (one cell where the tile is a single cell wide or high).
  let peak = 0;
  for (let wy = 0; wy < Math.max(1, ch - 1); wy++) {
    for (let wx = 0; wx < Math.max(1, cw - 1); wx++) {
      const y1 = Math.min(wy + 1, ch - 1);
      const x1 = Math.min(wx + 1, cw - 1);
      for (let c = 0; c < 3; c++) {
        let s = 0;
        let n = 0;
        for (let yy = wy; yy <= y1; yy++) {
          for (let xx = wx; xx <= x1; xx++) {
            s += sums[(yy * cw + xx) * 3 + c];
            n += counts[yy * cw + xx];
          }
        }
        const mean = Math.abs(s) / n;
        if (mean > peak) peak = mean;
      }
    }
  }
  return peak;
}

/**
 * Median of a flow component over a tile (the upper median: the value a sort would put at index ⌊n/2⌋), gathered
 * in `scratch` (at least a tile's pixels; no allocation per tile) and selected there in linear time.
 */
export function tileMedian(plane: Float32Array, width: number, box: TileBox, scratch: Float32Array): number {
  const values = scratch.subarray(0, box.w * box.h);
  for (let y = 0, j = 0; y < box.h; y++)
    for (let x = 0; x < box.w; x++, j++) values[j] = plane[(box.y + y) * width + box.x + x];
  return kthSmallest(values, values.length >> 1);
}

/** The value at index k of `a` sorted ascending (Hoare's selection, in place; `a` is left partly ordered). */
export function kthSmallest(a: Float32Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}
