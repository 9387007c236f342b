/** Picture-quality and flicker measures on packed RGB24 frames. */

export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`psnr: ${a.length} vs ${b.length} bytes`);
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    se += d * d;
  }
  return se === 0 ? 99 : 10 * Math.log10((255 * 255 * a.length) / se);
}

function luma(rgb: Uint8Array): Float32Array {
  const n = rgb.length / 3;
  const y = new Float32Array(n);
  for (let p = 0, i = 0; p < n; p++, i += 3) y[p] = 0.2126 * rgb[i] + 0.7152 * rgb[i + 1] + 0.0722 * rgb[i + 2];
  return y;
}

/** SSIM on luma over 8×8 windows with stride 4 (Wang et al. constants), averaged. */
export function ssim(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  const ya = luma(a);
  const yb = luma(b);
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  let sum = 0;
  let count = 0;
  for (let y0 = 0; y0 + 8 <= height; y0 += 4) {
    for (let x0 = 0; x0 + 8 <= width; x0 += 4) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let y = y0; y < y0 + 8; y++) {
        for (let x = x0; x < x0 + 8; x++) {
          const p = ya[y * width + x];
          const q = yb[y * width + x];
          sa += p;
          sb += q;
          saa += p * p;
          sbb += q * q;
          sab += p * q;
        }
      }
      const n = 64;
      const ma = sa / n;
      const mb = sb / n;
      const va = saa / n - ma * ma;
      const vb = sbb / n - mb * mb;
      const cov = sab / n - ma * mb;
      sum += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      count++;
    }
  }
  return sum / count;
}

export const STATIC_BLOCK = 16;

/**
 * Static regions of the ground truth for each pair of consecutive frames: 16×16 blocks whose mean |Δ| (RGB) is
 * within the clip's noise floor — at most 1.5 × the 10th percentile of block differences + 1 level. On a fixed
 * camera that is everything but the moving part; on a pan, only flat areas (which may be none).
 * Returns, per pair t (frames t−1 → t), a block mask (1 = static).
 */
export function staticBlocks(truth: Uint8Array[], width: number, height: number): Uint8Array[] {
  const cols = Math.floor(width / STATIC_BLOCK);
  const rows = Math.floor(height / STATIC_BLOCK);
  const masks: Uint8Array[] = [new Uint8Array(cols * rows)];
  for (let t = 1; t < truth.length; t++) {
    const d = blockDiffs(truth[t], truth[t - 1], width, cols, rows);
    const sorted = Float64Array.from(d).sort();
    const floor = sorted[Math.floor(sorted.length * 0.1)];
    const limit = 1.5 * floor + 1;
    masks.push(Uint8Array.from(d, (v) => (v <= limit ? 1 : 0)));
  }
  return masks;
}

function blockDiffs(a: Uint8Array, b: Uint8Array, width: number, cols: number, rows: number): Float64Array {
  const out = new Float64Array(cols * rows);
  const B = STATIC_BLOCK;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let y = r * B; y < (r + 1) * B; y++) {
        let i = (y * width + c * B) * 3;
        for (let k = 0; k < B * 3; k++, i++) s += Math.abs(a[i] - b[i]);
      }
      out[r * cols + c] = s / (B * B * 3);
    }
  }
  return out;
}

/** Sum of |Δ| between consecutive frames inside the static blocks, and the number of bytes summed. */
export function staticMotion(
  frames: Uint8Array[],
  masks: Uint8Array[],
  width: number,
  height: number,
): { sum: number; bytes: number } {
  const cols = Math.floor(width / STATIC_BLOCK);
  const rows = Math.floor(height / STATIC_BLOCK);
  let sum = 0;
  let bytes = 0;
  for (let t = 1; t < frames.length; t++) {
    const d = blockDiffs(frames[t], frames[t - 1], width, cols, rows);
    for (let i = 0; i < d.length; i++) {
      if (!masks[t][i]) continue;
      sum += d[i] * STATIC_BLOCK * STATIC_BLOCK * 3;
      bytes += STATIC_BLOCK * STATIC_BLOCK * 3;
    }
  }
  return { sum, bytes };
}

/**
 * Flicker index: mean |Δ| between consecutive output frames inside the ground truth's static regions, divided by
 * the same for the ground truth. 1 = as steady as the real footage; NaN when the clip has no static region.
 */
export function flickerIndex(
  output: Uint8Array[],
  truth: Uint8Array[],
  masks: Uint8Array[],
  width: number,
  height: number,
): number {
  const o = staticMotion(output, masks, width, height);
  const g = staticMotion(truth, masks, width, height);
  if (g.bytes === 0 || g.sum === 0) return Number.NaN;
  return o.sum / o.bytes / (g.sum / g.bytes);
}

/** Share of the frame area that counts as static (averaged over pairs). */
export function staticShare(masks: Uint8Array[]): number {
  if (masks.length < 2) return 0;
  let s = 0;
  for (let t = 1; t < masks.length; t++) s += masks[t].reduce((a, v) => a + v, 0) / masks[t].length;
  return s / (masks.length - 1);
}

/**
 * A part of each frame pair: the pixels whose 16×16 block has `keep` in the pair's static-block mask (staticBlocks:
 * 1 = static, so keep 0 = the moving regions). Pixels outside whole blocks belong to neither part.
 */
export interface Region {
  masks: Uint8Array[];
  keep: 0 | 1;
}

function inRegion(region: Region | undefined, t: number, x: number, y: number, width: number): boolean {
  if (!region) return true;
  const cols = Math.floor(width / STATIC_BLOCK);
  const c = Math.floor(x / STATIC_BLOCK);
  const r = Math.floor(y / STATIC_BLOCK);
  const m = region.masks[t];
  const i = r * cols + c;
  return c < cols && i < m.length && m[i] === region.keep;
}

/**
 * Mean |outₜ − warp(outₜ₋₁)| (RGB levels) along the ground truth's backward flows, on the pixels the flows'
 * masks trust (and inside `region`, when given); `flows[t − 1]` maps frame t onto t − 1. Bilinear sampling of the
 * previous frame.
 */
export function warpingError(
  frames: Uint8Array[],
  flows: readonly { u: Float32Array; v: Float32Array; mask: Uint8Array }[],
  width: number,
  height: number,
  region?: Region,
): number {
  let sum = 0;
  let count = 0;
  for (let t = 1; t < frames.length && t - 1 < flows.length; t++) {
    const { u, v, mask } = flows[t - 1];
    const cur = frames[t];
    const prev = frames[t - 1];
    for (let y = 0, p = 0; y < height; y++) {
      for (let x = 0; x < width; x++, p++) {
        if (!mask[p] || !inRegion(region, t, x, y, width)) continue;
        const qx = Math.min(width - 1, Math.max(0, x + u[p]));
        const qy = Math.min(height - 1, Math.max(0, y + v[p]));
        const x0 = Math.floor(qx);
        const y0 = Math.floor(qy);
        const x1 = Math.min(width - 1, x0 + 1);
        const y1 = Math.min(height - 1, y0 + 1);
        const fx = qx - x0;
        const fy = qy - y0;
        for (let c = 0; c < 3; c++) {
          const a = prev[(y0 * width + x0) * 3 + c] * (1 - fx) + prev[(y0 * width + x1) * 3 + c] * fx;
          const b = prev[(y1 * width + x0) * 3 + c] * (1 - fx) + prev[(y1 * width + x1) * 3 + c] * fx;
          sum += Math.abs(cur[p * 3 + c] - (a * (1 - fy) + b * fy));
        }
        count += 3;
      }
    }
  }
  return count ? sum / count : Number.NaN;
}

/**
 * The error of the worst 1 % of pixels against the ground truth (mean |Δ| over a pixel's RGB), over every frame
 * pair's `region` (frames t ≥ 1): ghosting and stale tiles show here long before they move a mean. `quantile` 1 gives
 * the largest error (a stale tile where something moved shows as a larger maximum than per-frame's).
 */
export function tailError(
  frames: Uint8Array[],
  truth: Uint8Array[],
  width: number,
  region: Region,
  quantile = 0.99,
): number {
  const errors: number[] = [];
  for (let t = 1; t < frames.length; t++) {
    const a = frames[t];
    const b = truth[t];
    for (let p = 0, i = 0; i < a.length; p++, i += 3) {
      if (!inRegion(region, t, p % width, Math.floor(p / width), width)) continue;
      errors.push((Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2])) / 3);
    }
  }
  if (!errors.length) return Number.NaN;
  const sorted = Float64Array.from(errors).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * quantile))];
}

/** Side of the output tiles staleExcess() compares: a low-res reuse tile of 8 pixels at ×4. */
const STALE_TILE = 32;

/**
 * A stale tile where something moved: over every frame t ≥ 1, the largest excess of `frames`' mean error (|Δ| against
 * the truth, RGB) over `base`'s (per-frame) in one 32×32 tile that overlaps a moving 16×16 block (`masks`, 0 =
 * moving). A reused tile that missed a change shows as tens of levels; the model's own errors cancel against base.
 */
export function staleExcess(
  frames: Uint8Array[],
  base: Uint8Array[],
  truth: Uint8Array[],
  size: { width: number; height: number },
  masks: Uint8Array[],
): number {
  const { width, height } = size;
  const T = STALE_TILE;
  const moving = (t: number, bx: number, by: number) => {
    for (let y = by; y < by + T; y += STATIC_BLOCK)
      for (let x = bx; x < bx + T; x += STATIC_BLOCK) if (!inRegion({ masks, keep: 1 }, t, x, y, width)) return true;
    return false;
  };
  let worst = 0;
  for (let t = 1; t < frames.length; t++) {
    for (let by = 0; by + T <= height; by += T) {
      for (let bx = 0; bx + T <= width; bx += T) {
        if (!moving(t, bx, by)) continue;
        let excess = 0;
        for (let y = by; y < by + T; y++) {
          for (let i = (y * width + bx) * 3, end = i + T * 3; i < end; i++)
            excess += Math.abs(frames[t][i] - truth[t][i]) - Math.abs(base[t][i] - truth[t][i]);
        }
        worst = Math.max(worst, excess / (T * T * 3));
      }
    }
  }
  return worst;
}
