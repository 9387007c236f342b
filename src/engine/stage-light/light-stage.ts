import type { FrameStage, PipelineFrame } from '../pipeline/pipeline-types';
import { DEFAULT_LIGHT_MASK, type LightMaskOptions, lightMask } from './light-mask';

/**
 * How far toward the model's own low-pass the blend goes where the mask is 1. Measured on the quality table's stage
 * clip (12 frames, realesr-general-x4v3, with the mask's defaults): 0.8 took 57 % of the painted energy off and
 * gained 0.07 dB PSNR; 1.0 took 60 % off and gained 0.04 dB (the model's detail at the edge of a dark area is partly
 * real); 0.6 took 50 % off.
 */
export const SOFTEN_STRENGTH = 0.8;

/**
 * `--dark-regions soften`: where lightMask finds large dark noisy areas or clipped highlights, blends the model's
 * output, by its smooth weight × SOFTEN_STRENGTH, toward its own low-pass: the output averaged back over each
 * low-res pixel (the frame as the model denoised it) and resized bilinearly. The model's levels and shapes stay,
 * the detail finer than an input pixel that it invents in noise goes, and the target is as steady from frame to
 * frame as the model's low frequencies (a 3×3 mean of the noisy input, the target before, kept part of the sensor
 * noise: the warping error inside the dark areas rose 10.8 → 13.1; now 10.8 → 10.0). Where the weight is 0 the
 * output bytes are the model's, untouched; a frame with no such area is passed through.
 */
export class StageLightStage implements FrameStage {
  readonly name = 'stage-light';
  constructor(private readonly options: LightMaskOptions = DEFAULT_LIGHT_MASK) {}

  process(frame: PipelineFrame): PipelineFrame {
    const { width: w, height: h } = frame.inputSize;
    const { width: ow, height: oh } = frame.outputSize;
    const { weight, any } = lightMask(frame.input, w, h, this.options);
    if (!any) return frame;
    const plain = areaDown(frame.output, ow, oh, w, h, weight);
    // A new buffer: the frame's output may be held (a temporal history) and must not change under it.
    const output = Buffer.from(frame.output);
    blendTowardResize(output, ow, oh, plain, w, h, weight);
    return { ...frame, output };
  }
}

/**
 * The `ow`×`oh` output averaged over each of the `w`×`h` low-res pixels' footprints, RGB; only where the blend
 * will read it (a pixel with weight, or next to one: the bilinear taps), 0 elsewhere.
 */
export function areaDown(
  out: Uint8Array,
  ow: number,
  oh: number,
  w: number,
  h: number,
  weight: Float32Array,
): Uint8Array {
  const low = new Uint8Array(w * h * 3);
  const near = (x: number, y: number) => {
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++)
        if (weight[Math.min(h - 1, Math.max(0, y + dy)) * w + Math.min(w - 1, Math.max(0, x + dx))] > 0) return true;
    return false;
  };
  for (let y = 0; y < h; y++) {
    const [y0, y1] = [Math.floor((y * oh) / h), Math.floor(((y + 1) * oh) / h)];
    for (let x = 0; x < w; x++) {
      if (!near(x, y)) continue;
      const [x0, x1] = [Math.floor((x * ow) / w), Math.floor(((x + 1) * ow) / w)];
      const n = (y1 - y0) * (x1 - x0);
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) s += out[(yy * ow + xx) * 3 + c];
        low[(y * w + x) * 3 + c] = Math.round(s / n);
      }
    }
  }
  return low;
}

/** Bilinear sample position of output pixel `o` (of `outN`) in an `inN`-wide grid, pixel centres aligned. */
function taps(o: number, outN: number, inN: number): [number, number, number] {
  const x = Math.min(inN - 1, Math.max(0, ((o + 0.5) * inN) / outN - 0.5));
  const x0 = Math.floor(x);
  return [x0, Math.min(inN - 1, x0 + 1), x - x0];
}

/** out = out·(1-k) + bilinear(input)·k, k = the bilinearly resized weight × `strength`, where it is above 0. */
export function blendTowardResize(
  out: Buffer,
  ow: number,
  oh: number,
  input: Uint8Array,
  w: number,
  h: number,
  weight: Float32Array,
  strength = SOFTEN_STRENGTH,
): void {
  const xs = Array.from({ length: ow }, (_, x) => taps(x, ow, w));
  for (let oy = 0; oy < oh; oy++) {
    const [y0, y1, fy] = taps(oy, oh, h);
    for (let ox = 0; ox < ow; ox++) {
      const [x0, x1, fx] = xs[ox];
      const a = (1 - fx) * (1 - fy);
      const b = fx * (1 - fy);
      const c = (1 - fx) * fy;
      const d = fx * fy;
      const k = a * weight[y0 * w + x0] + b * weight[y0 * w + x1] + c * weight[y1 * w + x0] + d * weight[y1 * w + x1];
      if (k <= 0) continue;
      const kk = k * strength;
      const o = (oy * ow + ox) * 3;
      const p00 = (y0 * w + x0) * 3;
      const p01 = (y0 * w + x1) * 3;
      const p10 = (y1 * w + x0) * 3;
      const p11 = (y1 * w + x1) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const plain = a * input[p00 + ch] + b * input[p01 + ch] + c * input[p10 + ch] + d * input[p11 + ch];
        out[o + ch] = Math.round(out[o + ch] * (1 - kk) + plain * kk);
      }
    }
  }
}
