import type { FlowField } from './optical-flow';

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
  const xEnd = box.x + box.w;
  const yEnd = box.y + box.h;
  // Whole 2×2 patches (all but the last row and column of an odd tile) in one loop; the sums are whole numbers, so
  // the order does not matter, and dividing by 12 keeps their order, so the largest mean is the largest sum / 12.
  const fullW = box.w & ~1;
  let total = 0;
  let fullPeak = 0;
  for (let y = box.y; y + 1 < yEnd; y += 2) {
    for (let i = y * stride + box.x * 3, end = i + fullW * 3; i < end; i += 6) {
      const patch =
        absDiff3(cur, ref, i, shift) +
        absDiff3(cur, ref, i + 3, shift) +
        absDiff3(cur, ref, i + stride, shift) +
        absDiff3(cur, ref, i + stride + 3, shift);
      total += patch;
      if (patch > fullPeak) fullPeak = patch;
    }
  }
  let peak = fullPeak / 12;
  // The clipped patches: the last column of an odd width, the last row of an odd height (and their corner).
  const lastX = box.w & 1 ? xEnd - 1 : xEnd;
  if (lastX < xEnd)
    for (let y = box.y; y + 1 < yEnd; y += 2) {
      const patch =
        absDiff3(cur, ref, y * stride + lastX * 3, shift) + absDiff3(cur, ref, (y + 1) * stride + lastX * 3, shift);
      total += patch;
      if (patch / 6 > peak) peak = patch / 6;
    }
  if (box.h & 1) {
    const row = (yEnd - 1) * stride;
    for (let x = box.x; x < lastX; x += 2) {
      const patch = absDiff3(cur, ref, row + x * 3, shift) + absDiff3(cur, ref, row + x * 3 + 3, shift);
      total += patch;
      if (patch / 6 > peak) peak = patch / 6;
    }
    if (lastX < xEnd) {
      const patch = absDiff3(cur, ref, row + lastX * 3, shift);
      total += patch;
      if (patch / 3 > peak) peak = patch / 3;
    }
  }
  return Math.max(total / (box.w * box.h * 3), peak / PEAK_FACTOR);
}

/** |Δ| summed over the three channels of one pixel (cur at i, ref at i + shift). */
function absDiff3(cur: Uint8Array, ref: Uint8Array, i: number, shift: number): number {
  const j = i + shift;
  return Math.abs(cur[i] - ref[j]) + Math.abs(cur[i + 1] - ref[j + 1]) + Math.abs(cur[i + 2] - ref[j + 2]);
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
  // Signed sums of 2×2 cells (clipped at the tile's edge), per channel, and their pixel counts. Whole numbers, so
  // they are exact in any order.
  const cw = Math.ceil(box.w / half);
  const ch = Math.ceil(box.h / half);
  const { sums, counts } = cellScratch(cw * ch);
  for (let cy = 0, cell = 0; cy < ch; cy++) {
    const y0 = box.y + cy * half;
    const y1 = Math.min(y0 + half, box.y + box.h);
    for (let cx = 0; cx < cw; cx++, cell++) {
      const x0 = box.x + cx * half;
      const x1 = Math.min(x0 + half, box.x + box.w);
      if (x1 - x0 === 2 && y1 - y0 === 2) wholeCell(cur, ref, y0 * stride + x0 * 3, shift, stride, sums, cell * 3);
      else {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let y = y0; y < y1; y++) {
          for (let i = y * stride + x0 * 3, end = y * stride + x1 * 3; i < end; i += 3) {
            const j = i + shift;
            r += cur[i] - ref[j];
            g += cur[i + 1] - ref[j + 1];
            b += cur[i + 2] - ref[j + 2];
          }
        }
        sums[cell * 3] = r;
        sums[cell * 3 + 1] = g;
        sums[cell * 3 + 2] = b;
      }
      counts[cell] = (y1 - y0) * (x1 - x0);
    }
  }
  return windowPeak(sums, counts, cw, ch);
}

/**
 * The signed sums per channel of a whole 2×2 cell (all but the last row and column of cells of an odd tile), its
 * pixels at i, i + 3, i + stride, i + stride + 3 (ref at + shift), into sums[at..at + 2].
 */
function wholeCell(
  cur: Uint8Array,
  ref: Uint8Array,
  i: number,
  shift: number,
  stride: number,
  sums: Float64Array,
  at: number,
): void {
  const j = i + shift;
  const k = i + stride;
  const l = j + stride;
  for (let c = 0; c < 3; c++)
    sums[at + c] =
      cur[i + c] -
      ref[j + c] +
      (cur[i + 3 + c] - ref[j + 3 + c]) +
      (cur[k + c] - ref[l + c]) +
      (cur[k + 3 + c] - ref[l + 3 + c]);
}

let cellSums = new Float64Array(0);
let cellCounts = new Uint16Array(0);
/** tileWindowChange()'s cell planes, reused from call to call (this thread's): every cell used is written first. */
function cellScratch(cells: number): { sums: Float64Array; counts: Uint16Array } {
  if (cellCounts.length < cells) {
    cellSums = new Float64Array(cells * 3);
    cellCounts = new Uint16Array(cells);
  }
  return { sums: cellSums, counts: cellCounts };
}

/**
 * The largest |mean| of one channel over windows of 2×2 cells (one cell where the tile is a single cell wide or
 * high), from the cells' signed sums and pixel counts (`cw` × `ch` cells, row-major).
 */
function windowPeak(sums: Float64Array, counts: Uint16Array, cw: number, ch: number): number {
  let peak = 0;
  if (cw > 1 && ch > 1) {
    // Every window has its four cells (the loop below with right and down always true).
    for (let wy = 0; wy < ch - 1; wy++)
      for (let a = wy * cw, end = a + cw - 1; a < end; a++) {
        const c = a + cw;
        const n = counts[a] + counts[a + 1] + counts[c] + counts[c + 1];
        for (let k = a * 3; k < a * 3 + 3; k++) {
          const mean = Math.abs(sums[k] + sums[k + 3] + sums[k + cw * 3] + sums[k + cw * 3 + 3]) / n;
          if (mean > peak) peak = mean;
        }
      }
    return peak;
  }
  for (let wy = 0; wy < Math.max(1, ch - 1); wy++) {
    const y1 = Math.min(wy + 1, ch - 1);
    for (let wx = 0; wx < Math.max(1, cw - 1); wx++) {
      const x1 = Math.min(wx + 1, cw - 1);
      const a = wy * cw + wx;
      const b = wy * cw + x1;
      const c = y1 * cw + wx;
      const d = y1 * cw + x1;
      // The distinct cells of the window (a window one cell wide or high repeats none: x1 = wx or y1 = wy).
      const right = x1 !== wx;
      const down = y1 !== wy;
      const n = counts[a] + (right ? counts[b] : 0) + (down ? counts[c] : 0) + (right && down ? counts[d] : 0);
      for (let k = 0; k < 3; k++) {
        const s =
          sums[a * 3 + k] +
          (right ? sums[b * 3 + k] : 0) +
          (down ? sums[c * 3 + k] : 0) +
          (right && down ? sums[d * 3 + k] : 0);
        const mean = Math.abs(s) / n;
        if (mean > peak) peak = mean;
      }
    }
  }
  return peak;
}

/** The span of rounded values roundedTileMedian() counts in a histogram. */
const MEDIAN_LEVELS = 64;

/**
 * Math.round of a flow component's median over a tile (the upper median: the value a sort would put at index
 * ⌊n/2⌋). Rounding keeps the order, so this is the median of the rounded values: counted in a histogram where they
 * span under MEDIAN_LEVELS levels (a tile's flow, almost always), else selected (kthSmallest). `scratch` holds at
 * least a tile's pixels, `counts` MEDIAN_LEVELS: no allocation per tile.
 */
export function roundedTileMedian(
  plane: Float32Array,
  width: number,
  box: TileBox,
  scratch: Float32Array,
  counts = new Uint16Array(MEDIAN_LEVELS),
): number {
  const n = box.w * box.h;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let y = 0, j = 0; y < box.h; y++)
    for (let x = 0, i = (box.y + y) * width + box.x; x < box.w; x++, j++, i++) {
      const r = Math.round(plane[i]);
      scratch[j] = r;
      if (r < lo) lo = r;
      if (r > hi) hi = r;
    }
  const k = n >> 1;
  if (hi - lo >= MEDIAN_LEVELS) return kthSmallest(scratch.subarray(0, n), k);
  counts.fill(0);
  for (let j = 0; j < n; j++) counts[scratch[j] - lo]++;
  for (let b = 0, seen = 0; ; b++) {
    seen += counts[b];
    if (seen > k) return lo + b;
  }
}

/**
 * Per tile of a frame (row-major, `tile` pixels, the last row and column clipped), the whole-pixel shift the flow
 * suggests: its median over the tile, rounded. Found on first use and kept, so the grain measures and the shift
 * search of one frame find each tile's once; the flow itself is asked for on first use.
 */
export class TileShifts {
  private readonly cols: number;
  private readonly dx: Int32Array;
  private readonly dy: Int32Array;
  private readonly found: Uint8Array;
  private readonly scratch: Float32Array;
  private readonly counts = new Uint16Array(MEDIAN_LEVELS);
  private field: FlowField | undefined;

  constructor(
    private readonly flow: () => FlowField,
    private readonly size: { width: number; height: number; tile: number },
  ) {
    const { width, height, tile } = size;
    this.cols = Math.ceil(width / tile);
    const n = this.cols * Math.ceil(height / tile);
    this.dx = new Int32Array(n);
    this.dy = new Int32Array(n);
    this.found = new Uint8Array(n);
    this.scratch = new Float32Array(tile * tile);
  }

  /** Tile i's box. */
  box(i: number): TileBox {
    const { width, height, tile: t } = this.size;
    const c = i % this.cols;
    const r = (i - c) / this.cols;
    return { x: c * t, y: r * t, w: Math.min(t, width - c * t), h: Math.min(t, height - r * t) };
  }

  /** Tile i's shift, in low-res pixels. */
  at(i: number): { dx: number; dy: number } {
    if (!this.found[i]) {
      const field = this.flowField();
      const box = this.box(i);
      this.dx[i] = roundedTileMedian(field.u, this.size.width, box, this.scratch, this.counts);
      this.dy[i] = roundedTileMedian(field.v, this.size.width, box, this.scratch, this.counts);
      this.found[i] = 1;
    }
    return { dx: this.dx[i], dy: this.dy[i] };
  }

  /** The flow the shifts are the medians of (asked for on first use). */
  flowField(): FlowField {
    this.field ??= this.flow();
    return this.field;
  }

  /**
   * Shifts found elsewhere (reuse-simd.ts: the same medians), per tile: those where neither `dx` nor `dy` is
   * UNSOLVED_SHIFT are taken as found, the others left to at().
   */
  take(dx: Int32Array, dy: Int32Array): void {
    for (let i = 0; i < this.found.length; i++)
      if (!this.found[i] && dx[i] !== UNSOLVED_SHIFT && dy[i] !== UNSOLVED_SHIFT) {
        this.dx[i] = dx[i];
        this.dy[i] = dy[i];
        this.found[i] = 1;
      }
  }
}

/** TileShifts.take()'s mark of a tile whose shift it does not take. */
export const UNSOLVED_SHIFT = -0x80000000;

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
