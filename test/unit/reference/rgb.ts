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
 * Runs the engine's rgb24 session (model/rgb24-io.ts: uint8 in, ×255/clamp/round inside the graph) the way
 * realesrgan-ncnn-vulkan runs a model: input reflect-padded by `pad` px, output cropped back. Returns packed rgb24.
 */
export async function upscaleLikeReference(
  session: InferenceSession,
  img: RgbImage,
  scale: number,
  pad: number,
): Promise<Uint8Array> {
  const pw = img.width + 2 * pad;
  const ph = img.height + 2 * pad;
  const input = new Uint8Array(3 * pw * ph);
  for (let y = 0; y < ph; y++) {
    const sy = reflect(y - pad, img.height);
    for (let x = 0; x < pw; x++) {
      const sx = reflect(x - pad, img.width);
      for (let c = 0; c < 3; c++) input[(y * pw + x) * 3 + c] = img.data[(sy * img.width + sx) * 3 + c];
    }
  }
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('uint8', input, [1, ph, pw, 3]) });
  const t = out[session.outputNames[0]];
  const [, oh, ow] = t.dims;
  if (oh !== ph * scale || ow !== pw * scale) throw new Error(`model output ${ow}×${oh}, expected ×${scale}`);
  const src = t.data as Uint8Array;
  const w = img.width * scale;
  const h = img.height * scale;
  const cropped = new Uint8Array(3 * w * h);
  const off = pad * scale;
  for (let y = 0; y < h; y++) {
    const row = ((y + off) * ow + off) * 3;
    cropped.set(src.subarray(row, row + w * 3), y * w * 3);
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
 * PSNR of our rgb24 output against the reference PNG. Values the lavapipe output shader breaks (a negative network
 * output comes back as 255 instead of 0) are masked: reference 255 where ours is 0 (clamped from below).
 */
export function compareWithReference(ours: Uint8Array, ref: RgbImage): Agreement {
  let se = 0;
  let maxAbsDiff = 0;
  let compared = 0;
  let masked = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const o = ours[i];
    const r = ref.data[i];
    if (r === 255 && o === 0) {
      masked++;
      continue;
    }
    const d = Math.abs(o - r);
    se += d * d;
    maxAbsDiff = Math.max(maxAbsDiff, d);
    compared++;
  }
  const mse = se / compared;
  return {
    psnrDb: mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse),
    maxAbsDiff,
    compared,
    masked,
  };
}
