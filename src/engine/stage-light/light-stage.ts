import type { FrameStage, PipelineFrame } from '../pipeline/pipeline-types';
import { boxMean, DEFAULT_LIGHT_MASK, type LightMaskOptions, lightMask } from './light-mask';

/**
 * How far toward the denoised resize the blend goes where the mask is 1. Measured on the quality table's stage clip
 * with realesr-animevideov3 (4 frames): 0.5 took 54 % of the painted energy off, 0.7 62 %, 1.0 65 % but cost 0.22 dB
 * PSNR (the model's own reconstruction of the dark areas is better than a blurred resize); 0.6 (12 frames) takes
 * 60 % off and gains 0.05 dB.
 */
export const SOFTEN_STRENGTH = 0.6;

/**
 * `--dark-regions soften`: blends the model's output toward a denoised (3×3 mean) bilinear resize of the low-res
 * frame where lightMask finds large dark noisy areas or clipped highlights, by its smooth weight × SOFTEN_STRENGTH.
 * Where the weight is 0 the output bytes are the model's, untouched; a frame with no such area is passed through.
 */
export class StageLightStage implements FrameStage {
  readonly name = 'stage-light';
  constructor(private readonly options: LightMaskOptions = DEFAULT_LIGHT_MASK) {}

  process(frame: PipelineFrame): PipelineFrame {
    const { width: w, height: h } = frame.inputSize;
    const { weight, any } = lightMask(frame.input, w, h, this.options);
    if (!any) return frame;
    // A new buffer: the frame's output may be held (a temporal history) and must not change under it.
    const output = Buffer.from(frame.output);
    const plain = denoised(frame.input, w, h, 1);
    blendTowardResize(output, frame.outputSize.width, frame.outputSize.height, plain, w, h, weight);
    return { ...frame, output };
  }
}

/** The low-res frame with its noise averaged out: each channel's (2r+1)² box mean. */
function denoised(rgb: Uint8Array, w: number, h: number, r: number): Uint8Array {
  if (r === 0) return rgb;
  const n = w * h;
  const out = new Uint8Array(n * 3);
  for (let ch = 0; ch < 3; ch++) {
    const plane = new Float32Array(n);
    for (let p = 0; p < n; p++) plane[p] = rgb[p * 3 + ch];
    const m = boxMean(plane, w, h, r);
    for (let p = 0; p < n; p++) out[p * 3 + ch] = Math.round(m[p]);
  }
  return out;
}

/** Bilinear sample position of output pixel `o` (of `outN`) in an `inN`-wide grid, pixel centres aligned. */
function taps(o: number, outN: number, inN: number): [number, number, number] {
  const x = Math.min(inN - 1, Math.max(0, ((o + 0.5) * inN) / outN - 0.5));
  const x0 = Math.floor(x);
  return [x0, Math.min(inN - 1, x0 + 1), x - x0];
}

/** out = out·(1-k) + bilinear(input)·k, k = the bilinearly resized weight × SOFTEN_STRENGTH, where it is above 0. */
export function blendTowardResize(
  out: Buffer,
  ow: number,
  oh: number,
  input: Uint8Array,
  w: number,
  h: number,
  weight: Float32Array,
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
      const kk = k * SOFTEN_STRENGTH;
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
