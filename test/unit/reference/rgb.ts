import { execFileSync } from 'node:child_process';
import type { InferenceSession } from 'onnxruntime-node';
import * as ort from 'onnxruntime-node';

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved RGB, 8 bits per channel. */
  data: Uint8Array;
}

export function readPng(file: string, width: number, height: number): RgbImage {
  const data = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    maxBuffer: 64 << 20,
  });
  if (data.byteLength !== width * height * 3) {
    throw new Error(`${file}: expected ${width}×${height} RGB (${width * height * 3} bytes), got ${data.byteLength}`);
  }
  return { width, height, data: new Uint8Array(data) };
}

/** Mirror index without repeating the edge pixel (numpy/ONNX "reflect"). */
const reflect = (i: number, n: number): number => {
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
};

/**
 * Runs an ONNX upscaler the way realesrgan-ncnn-vulkan does: input reflect-padded by `pad` px, RGB/255 in,
 * output cropped back. Returns the raw (unclamped) float output, planar [3][H·s][W·s].
 */
export async function upscaleLikeReference(
  session: InferenceSession,
  img: RgbImage,
  scale: number,
  pad: number,
): Promise<Float32Array> {
  const pw = img.width + 2 * pad;
  const ph = img.height + 2 * pad;
  const input = new Float32Array(3 * pw * ph);
  for (let y = 0; y < ph; y++) {
    const sy = reflect(y - pad, img.height);
    for (let x = 0; x < pw; x++) {
      const sx = reflect(x - pad, img.width);
      for (let c = 0; c < 3; c++) input[c * pw * ph + y * pw + x] = img.data[(sy * img.width + sx) * 3 + c] / 255;
    }
  }
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, ph, pw]) });
  const t = out[session.outputNames[0]];
  const [, , oh, ow] = t.dims;
  if (oh !== ph * scale || ow !== pw * scale) throw new Error(`model output ${ow}×${oh}, expected ×${scale}`);
  const src = t.data as Float32Array;
  const w = img.width * scale;
  const h = img.height * scale;
  const cropped = new Float32Array(3 * w * h);
  const off = pad * scale;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      const row = c * oh * ow + (y + off) * ow + off;
      cropped.set(src.subarray(row, row + w), c * w * h + y * w);
    }
  }
  return cropped;
}

export interface Agreement {
  psnrDb: number;
  maxAbsDiff: number;
  compared: number;
  masked: number;
}

/**
 * PSNR of our output (×255, clamped, rounded) against the reference PNG. Values the lavapipe output shader breaks
 * (a negative network output comes back as 255 instead of 0) are masked: reference 255 where ours is below 0.
 */
export function compareWithReference(ours: Float32Array, ref: RgbImage): Agreement {
  const plane = ref.width * ref.height;
  let se = 0;
  let maxAbsDiff = 0;
  let compared = 0;
  let masked = 0;
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const raw = ours[c * plane + i] * 255;
      const r = ref.data[i * 3 + c];
      if (r === 255 && raw < 0) {
        masked++;
        continue;
      }
      const o = Math.min(255, Math.max(0, Math.round(raw)));
      const d = Math.abs(o - r);
      se += d * d;
      maxAbsDiff = Math.max(maxAbsDiff, d);
      compared++;
    }
  }
  const mse = se / compared;
  return {
    psnrDb: mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse),
    maxAbsDiff,
    compared,
    masked,
  };
}
