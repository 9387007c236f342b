/**
 * Measures for `--dark-regions`: where the ground truth is dark (its 7×7 mean luma under 40), how much
 * high-frequency energy the output has that the truth does not ("painted" detail; high-pass = luma minus its 3×3
 * mean), and whether the output outside that area is untouched.
 */
import { boxMean, luma } from '../../src/engine/stage-light/light-mask';

export interface DarkMask {
  mask: Uint8Array;
  share: number;
}

export function darkMask(truth: Uint8Array, width: number, height: number): DarkMask {
  const n = width * height;
  const mean = boxMean(luma(truth, n), width, height, 3);
  const mask = new Uint8Array(n);
  let count = 0;
  for (let p = 0; p < n; p++) {
    if (mean[p] < 40) {
      mask[p] = 1;
      count++;
    }
  }
  return { mask, share: count / n };
}

const highPass = (rgb: Uint8Array, w: number, h: number): Float32Array => {
  const y = luma(rgb, w * h);
  const m = boxMean(y, w, h, 1);
  for (let p = 0; p < y.length; p++) y[p] -= m[p];
  return y;
};

/**
 * High-frequency energy the output has and the truth does not, over the dark mask (levels²): per pixel, the local
 * (7×7) energy of the output's high-pass luma less the truth's, where positive. Missing detail (the truth's own
 * grain, which no upscaler can know) does not count; invented detail does.
 */
export function paintedEnergy(out: Uint8Array, truth: Uint8Array, w: number, h: number, dark: DarkMask): number {
  const energy = (rgb: Uint8Array) => {
    const hp = highPass(rgb, w, h);
    for (let p = 0; p < hp.length; p++) hp[p] *= hp[p];
    return boxMean(hp, w, h, 3);
  };
  const a = energy(out);
  const b = energy(truth);
  let s = 0;
  let n = 0;
  for (let p = 0; p < a.length; p++) {
    if (!dark.mask[p]) continue;
    s += Math.max(0, a[p] - b[p]);
    n++;
  }
  return n > 0 ? s / n : 0;
}

/** Share of the pixels outside the dark mask whose bytes differ between two outputs (0 = byte-identical there). */
export function changedOutside(a: Uint8Array, b: Uint8Array, dark: DarkMask): number {
  let changed = 0;
  let n = 0;
  for (let p = 0; p < dark.mask.length; p++) {
    if (dark.mask[p]) continue;
    n++;
    const i = p * 3;
    if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) changed++;
  }
  return n > 0 ? changed / n : 0;
}

/**
 * The truth's flows with their trusted pixels narrowed to the dark mask of the frame each flow starts from: the
 * warping error along them (metrics.ts warpingError) is the crawl inside the dark areas only.
 */
export function flowsInDark<F extends { mask: Uint8Array }>(flows: readonly F[], darks: readonly DarkMask[]): F[] {
  return flows.map((f, i) => ({ ...f, mask: f.mask.map((x, p) => x & (darks[i + 1]?.mask[p] ?? 0)) }));
}
