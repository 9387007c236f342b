/**
 * Where a stage's lighting defeats a GAN upscaler, found on the low-res frame: large dark areas with sensor noise
 * (the model paints texture into the noise, and it crawls from frame to frame) and clipped highlights (nothing left
 * to restore). Returns a weight per low-res pixel, 0 (the model's output stays) to 1 (fully softened), smooth at the
 * edges and exactly 0 away from such areas. Stateless: every window is wide enough (7×7 level and noise, 9×9 size
 * test) that frame-to-frame noise barely moves it, so a resumed job needs no priming.
 */

export interface LightMaskOptions {
  /** Local mean luma (0-255) under which an area is dark (fully at `darkFull`). */
  darkFrom: number;
  darkFull: number;
  /** Local high-frequency noise (RMS levels) from which a dark area counts as noisy (fully at `noiseFull`). */
  noiseFrom: number;
  noiseFull: number;
  /** Local mean luma from which an area is clipped (fully at `clipFull`). */
  clipFrom: number;
  clipFull: number;
  /** Share of a 9×9 window such areas must fill to count (fully at `largeFull`): large areas only. */
  largeFrom: number;
  largeFull: number;
}

/** Measured on the quality table's stage clip (docs/dev/stage-light.md). */
export const DEFAULT_LIGHT_MASK: LightMaskOptions = {
  darkFrom: 40,
  darkFull: 25,
  noiseFrom: 0.8,
  noiseFull: 2,
  clipFrom: 240,
  clipFull: 252,
  largeFrom: 0.3,
  largeFull: 0.7,
};

const smoothstep = (e0: number, e1: number, x: number): number => {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
};

/** Mean over a (2r+1)² box, clamped at the borders (two 1-D passes). */
export function boxMean(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += src[y * w + Math.min(w - 1, Math.max(0, x + k))];
      tmp[y * w + x] = s / (2 * r + 1);
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += tmp[Math.min(h - 1, Math.max(0, y + k)) * w + x];
      out[y * w + x] = s / (2 * r + 1);
    }
  }
  return out;
}

export function luma(rgb: Uint8Array, n: number): Float32Array {
  const y = new Float32Array(n);
  for (let p = 0, i = 0; p < n; p++, i += 3) y[p] = 0.2126 * rgb[i] + 0.7152 * rgb[i + 1] + 0.0722 * rgb[i + 2];
  return y;
}

/** The blend weight per low-res pixel (see the file comment); `any` is false when it is 0 everywhere. */
export function lightMask(
  rgb: Uint8Array,
  w: number,
  h: number,
  o: LightMaskOptions = DEFAULT_LIGHT_MASK,
): { weight: Float32Array; any: boolean } {
  const n = w * h;
  const y = luma(rgb, n);
  const mean = boxMean(y, w, h, 3);
  const blur = boxMean(y, w, h, 1);
  const hf2 = new Float32Array(n);
  for (let p = 0; p < n; p++) hf2[p] = (y[p] - blur[p]) ** 2;
  const noise = boxMean(hf2, w, h, 3);
  const raw = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const dark =
      smoothstep(o.darkFrom, o.darkFull, mean[p]) * smoothstep(o.noiseFrom, o.noiseFull, Math.sqrt(noise[p]));
    raw[p] = Math.max(dark, smoothstep(o.clipFrom, o.clipFull, mean[p]));
  }
  // Large areas only: a patch must fill 30 % of a 9×9 window to start counting, 70 % to count fully; the ramp makes
  // the edge smooth. (0.5-0.85 before left the rims of the stage's dark areas, by the spotlight, to the model: on the
  // quality table's stage clip it took 23 % of the painted energy off there, 57 % now.)
  const large = boxMean(raw, w, h, 4);
  const weight = new Float32Array(n);
  let any = false;
  for (let p = 0; p < n; p++) {
    weight[p] = smoothstep(o.largeFrom, o.largeFull, large[p]);
    if (weight[p] > 0) any = true;
  }
  return { weight, any };
}
