/**
 * Change detection on the low-res frames (the model's input): cheap, and free of the texture the model invents.
 * Compression noise is small and uncorrelated between neighbouring pixels, so differences are averaged over 3×3
 * before they are judged; real motion is coherent and survives the averaging.
 */

/** BT.709 luma of packed RGB24, 0..255, into `out` (w·h bytes). */
export function lumaOf(rgb: Uint8Array, pixels: number, out: Uint8Array = new Uint8Array(pixels)): Uint8Array {
  if (rgb.length !== pixels * 3) throw new RangeError(`frame has ${rgb.length} bytes, expected ${pixels * 3}`);
  for (let p = 0, i = 0; p < pixels; p++, i += 3)
    out[p] = (54 * rgb[i] + 183 * rgb[i + 1] + 19 * rgb[i + 2] + 128) >> 8;
  return out;
}

let scratch = new Float32Array(0);
/**
 * A plane for a pass's intermediate rows, reused from call to call (this thread's): the passes that take it write
 * every value they read back, and nothing of it is returned.
 */
function scratchPlane(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(n);
  return scratch;
}

/** 3×3 mean (clipped at the borders) of |a − b|, per pixel. */
export function smoothedAbsDiff(a: Uint8Array, b: Uint8Array, width: number, height: number): Float32Array {
  return smoothedAbsDiffIn(a, b, width, height, { x: 0, y: 0, w: width, h: height });
}

/**
 * smoothedAbsDiff() inside `r` only (0 elsewhere); inside it the values are exactly the whole frame's (the 3×3
 * window still reaches outside `r` and is clipped at the frame's borders only).
 */
export function smoothedAbsDiffIn(
  a: Uint8Array,
  b: Uint8Array,
  width: number,
  height: number,
  r: { x: number; y: number; w: number; h: number },
): Float32Array {
  const n = width * height;
  // Separable box: rows (over r's rows grown by one), then columns. The row sums are whole numbers (exact in any
  // order); the column pass adds the three row means top to bottom, as a loop from 0 would.
  const ry0 = Math.max(0, r.y - 1);
  const ry1 = Math.min(height, r.y + r.h + 1);
  const rows = scratchPlane(n);
  for (let y = ry0; y < ry1; y++) rowMeans(a, b, y * width, width, r.x, r.x + r.w, rows);
  const out = new Float32Array(n);
  for (let y = r.y; y < r.y + r.h; y++) {
    const i0 = y * width;
    const up = y > 0 ? i0 - width : i0;
    const down = y < height - 1 ? i0 + width : i0;
    const count = (down - up) / width + 1;
    if (count === 3)
      for (let x = r.x; x < r.x + r.w; x++) out[i0 + x] = (rows[up + x] + rows[i0 + x] + rows[down + x]) / 3;
    else if (up < i0) for (let x = r.x; x < r.x + r.w; x++) out[i0 + x] = (rows[up + x] + rows[i0 + x]) / count;
    else if (down > i0) for (let x = r.x; x < r.x + r.w; x++) out[i0 + x] = (rows[i0 + x] + rows[down + x]) / count;
    else for (let x = r.x; x < r.x + r.w; x++) out[i0 + x] = rows[i0 + x];
  }
  return out;
}

/** One row of smoothedAbsDiffIn()'s row pass: the mean of |a − b| over x−1..x+1 (clipped), for x in [x0, x1). */
function rowMeans(
  a: Uint8Array,
  b: Uint8Array,
  row: number,
  width: number,
  x0: number,
  x1: number,
  rows: Float32Array,
) {
  if (width === 1) {
    rows[row] = Math.abs(a[row] - b[row]);
    return;
  }
  let x = x0;
  if (x === 0) {
    rows[row] = (Math.abs(a[row] - b[row]) + Math.abs(a[row + 1] - b[row + 1])) / 2;
    x++;
  }
  const end = Math.min(x1, width - 1);
  if (x < end) {
    let left = Math.abs(a[row + x - 1] - b[row + x - 1]);
    let mid = Math.abs(a[row + x] - b[row + x]);
    for (let i = row + x; i < row + end; i++) {
      const right = Math.abs(a[i + 1] - b[i + 1]);
      rows[i] = (left + mid + right) / 3;
      left = mid;
      mid = right;
    }
    x = end;
  }
  if (x < x1) {
    const i = row + x;
    rows[i] = (Math.abs(a[i - 1] - b[i - 1]) + Math.abs(a[i] - b[i])) / 2;
  }
}

export interface MaskThresholds {
  staticBelow: number;
  movingAbove: number;
}

/**
 * Per low-res pixel, how static it is between two frames: 1 = static (safe to blend), 0 = moving. The moving area
 * is then grown by one pixel (a 3×3 minimum of the static weight) so object edges, whose 3×3 mean is diluted by
 * their static side, never blend with where the object was.
 */
export function staticWeights(
  cur: Uint8Array,
  prev: Uint8Array,
  width: number,
  height: number,
  t: MaskThresholds,
): Float32Array {
  return erode3x3(weightsFromDiff(smoothedAbsDiff(cur, prev, width, height), t), width, height);
}

/** Per pixel, a smoothed difference mapped linearly to a static weight: 1 below staticBelow, 0 above movingAbove. */
export function weightsFromDiff(diff: Float32Array, t: MaskThresholds): Float32Array {
  const soft = new Float32Array(diff.length);
  // weightOf() with its span found once.
  const { movingAbove } = t;
  const span = Math.max(1e-6, movingAbove - t.staticBelow);
  for (let i = 0; i < diff.length; i++) soft[i] = Math.max(0, Math.min(1, (movingAbove - diff[i]) / span));
  return soft;
}

/** One smoothed difference mapped to a static weight (see weightsFromDiff). */
export function weightOf(diff: number, t: MaskThresholds): number {
  const span = Math.max(1e-6, t.movingAbove - t.staticBelow);
  return Math.max(0, Math.min(1, (t.movingAbove - diff) / span));
}

/** 3×3 minimum: grows the low-weight (moving) area by one pixel. */
export function erode3x3(src: Float32Array, width: number, height: number): Float32Array {
  const rows = scratchPlane(src.length);
  for (let y = 0; y < height; y++) {
    const r = y * width;
    for (let x = 0; x < width; x++) {
      let m = src[r + x];
      if (x > 0 && src[r + x - 1] < m) m = src[r + x - 1];
      if (x < width - 1 && src[r + x + 1] < m) m = src[r + x + 1];
      rows[r + x] = m;
    }
  }
  const out = new Float32Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      let m = rows[i];
      if (y > 0 && rows[i - width] < m) m = rows[i - width];
      if (y < height - 1 && rows[i + width] < m) m = rows[i + width];
      out[i] = m;
    }
  }
  return out;
}

/** Mean |Δluma| over the whole frame above which two frames belong to different shots. */
export const SCENE_CUT_MEAN_DIFF = 24;
/** … or: this share of the 16-bin luma histogram moved, with at least a third of that mean difference. */
export const SCENE_CUT_HISTOGRAM_SHIFT = 0.5;

/**
 * A scene cut: the new frame shares (almost) nothing with the previous one, so no history may be blended into it
 * and no tile may be reused from it. Motion inside a shot moves content but keeps the brightness distribution, so a
 * cut is a very large mean difference, or a moderate one together with a histogram that changed wholesale.
 */
export function isSceneCut(cur: Uint8Array, prev: Uint8Array): boolean {
  const n = cur.length;
  if (n === 0) return false;
  let sum = 0;
  const hc = new Int32Array(16);
  const hp = new Int32Array(16);
  for (let i = 0; i < n; i++) {
    sum += Math.abs(cur[i] - prev[i]);
    hc[cur[i] >> 4]++;
    hp[prev[i] >> 4]++;
  }
  return sceneCutOf(sum, hc, hp, n);
}

/**
 * isSceneCut()'s decision from its sums over n > 0 pixels: Σ |cur − prev|, and the 16-bin histograms of cur >> 4 and
 * prev >> 4.
 */
export function sceneCutOf(sum: number, hc: Int32Array, hp: Int32Array, n: number): boolean {
  if (sum / n > SCENE_CUT_MEAN_DIFF) return true;
  let moved = 0;
  for (let b = 0; b < 16; b++) moved += Math.abs(hc[b] - hp[b]);
  return moved / (2 * n) > SCENE_CUT_HISTOGRAM_SHIFT && sum / n > SCENE_CUT_MEAN_DIFF / 3;
}
