// Activation ranges for the int8 model variants (src/engine/model/int8.ts), measured on real frames: the fp32 model
// runs on frames of the python3-imageio clips and media/sample.mp4, and every tensor the int8 variant quantizes is
// recorded. Written to models/int8-calibration.json by `npm run models -- --calibrate`.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { type ActivationRanges, quantizedActivations, withActivationOutputs } from '../../src/engine/model/int8';

const repoRoot = resolve(__dirname, '..', '..');

export interface CalibrationFrame {
  source: string;
  width: number;
  height: number;
  /** NCHW float32 RGB 0..1, as the tiler feeds the model. */
  data: Float32Array;
}

export interface CalibrationClip {
  /** Path relative to a search folder (imageio's) or to the repository. */
  file: string;
  /** ffmpeg -vf for the frames the model sees (the size users feed it: SD-ish sources). */
  filter: string;
  frames: number;
}

/**
 * Real footage only (no synthetic noise): the clips `npm run quality` uses, at sizes people upscale. 40 frames; none
 * is one the int8 test checks quality on (cockatoo 17, 122, 227; realshort 5, 29). With 20 (every 35th, 8th and
 * 10th) the anime model's worst test frame measured 39.99 dB against fp32, with these 40.14 (docs/dev/models.md).
 */
export const CALIBRATION_CLIPS: CalibrationClip[] = [
  { file: 'cockatoo.mp4', filter: 'select=not(mod(n\\,18)),scale=320:180:flags=area', frames: 16 },
  { file: 'realshort.mp4', filter: 'select=not(mod(n\\,4)),scale=240:180:flags=area', frames: 8 },
  { file: 'media/sample.mp4', filter: 'select=not(mod(n\\,5))', frames: 16 },
];

/**
 * Tail fraction cut off each end of a range (percentile calibration); 0 is plain min/max. Measured on real frames
 * the calibration did not see (anime model, int8 vs fp32 worst frame / mean Δ vs ground truth): 1e-4 37.2 dB /
 * +0.11 dB, 3e-5 39.6 / −0.08, 1e-5 40.2 / −0.08, 3e-6 39.6 / −0.19, 1e-6 39.0 / −0.12.
 */
export const CALIBRATION_PERCENTILE = 1e-5;

const IMAGEIO = [process.env.HUAJU4K_IMAGEIO_DIR, '/usr/lib/python3/dist-packages/imageio/resources/images'];

export function clipPath(file: string): string {
  const dirs = file.startsWith('media/') ? [repoRoot] : IMAGEIO.filter((d): d is string => !!d);
  for (const d of dirs) if (existsSync(join(d, file))) return join(d, file);
  throw new Error(
    `calibration clip ${file} not found in ${dirs.join(' or ')}: apt-get install python3-imageio (or ` +
      '`apt-get download python3-imageio && dpkg -x *.deb x/` and set HUAJU4K_IMAGEIO_DIR to its images folder)',
  );
}

function probeSize(path: string, filter: string): [number, number] {
  const dims = execFileSync(
    'ffprobe',
    ['-v', 'error', '-f', 'lavfi', '-i', `movie=${path},${filter}`, '-show_entries', 'stream=width,height'],
    { encoding: 'utf8' },
  );
  const [w, h] = (/width=(\d+)\s+height=(\d+)/.exec(dims) ?? []).slice(1).map(Number);
  if (!w || !h || decodeRgbFrames(path, filter, w, h, 1).length !== 1) throw new Error(`cannot decode ${path}`);
  return [w, h];
}

/** Packed RGB24 → NCHW float32 0..1 (the tiler's layout). */
export function rgbToPlanar(rgb: Uint8Array, width: number, height: number): Float32Array {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = rgb[i * 3 + c] / 255;
  return out;
}

/** Decodes `path` through the filter `vf` into packed RGB24 frames of width×height (at most `frames` of them). */
export function decodeRgbFrames(
  path: string,
  vf: string,
  width: number,
  height: number,
  frames?: number,
): Uint8Array[] {
  const limit = frames === undefined ? [] : ['-frames:v', String(frames)];
  const raw = execFileSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-nostdin',
      '-i',
      path,
      '-vf',
      vf,
      '-fps_mode',
      'passthrough',
      ...limit,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ],
    { maxBuffer: 1 << 30 },
  );
  const size = width * height * 3;
  const out: Uint8Array[] = [];
  for (let o = 0; o + size <= raw.length; o += size) out.push(raw.subarray(o, o + size));
  return out;
}

export function calibrationFrames(clips: CalibrationClip[] = CALIBRATION_CLIPS): CalibrationFrame[] {
  const frames: CalibrationFrame[] = [];
  for (const clip of clips) {
    const path = clipPath(clip.file);
    const [width, height] = probeSize(path, clip.filter);
    for (const rgb of decodeRgbFrames(path, clip.filter, width, height, clip.frames)) {
      frames.push({ source: clip.file, width, height, data: rgbToPlanar(rgb, width, height) });
    }
  }
  return frames;
}

/** Every `SAMPLE_STRIDE`-th value of each tensor is kept for the percentiles (min and max see every value). */
const SAMPLE_STRIDE = 61;

class RangeStats {
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  private samples: number[] = [];
  add(values: Float32Array): void {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
    }
    for (let i = 0; i < values.length; i += SAMPLE_STRIDE) this.samples.push(values[i]);
  }
  range(tail: number): [number, number] {
    if (tail <= 0) return [this.min, this.max];
    const s = Float64Array.from(this.samples).sort();
    const k = Math.floor(tail * (s.length - 1));
    return [s[k], s[s.length - 1 - k]];
  }
}

const round6 = (v: number): number => Number(v.toPrecision(6));

/** Runs the fp32 model over `frames` and returns each quantized tensor's range (min/max or percentile `tail`). */
export async function calibrate(model: Uint8Array, frames: CalibrationFrame[], tail = CALIBRATION_PERCENTILE) {
  return (await calibrateTails(model, frames, [tail]))[0];
}

/** `calibrate` for several tails in one pass over the frames (to compare them). */
export async function calibrateTails(model: Uint8Array, frames: CalibrationFrame[], tails: number[]) {
  const names = quantizedActivations(model);
  const session = await ort.InferenceSession.create(withActivationOutputs(model), { graphOptimizationLevel: 'all' });
  const inputName = session.inputNames[0];
  const stats = new Map(names.map((n) => [n, new RangeStats()]));
  try {
    for (const f of frames) {
      const input = new ort.Tensor('float32', f.data, [1, 3, f.height, f.width]);
      const out = await session.run({ [inputName]: input });
      for (const n of names) stats.get(n)?.add((n === inputName ? input : out[n]).data as Float32Array);
    }
  } finally {
    await session.release();
  }
  return tails.map((tail) => {
    const ranges: Record<string, [number, number]> = {};
    for (const n of names) {
      // The input is 8-bit pixels / 255: [0, 1] quantizes it exactly (scale 1/255, zero point 0).
      const [lo, hi] = n === inputName ? [0, 1] : (stats.get(n)?.range(tail) ?? [0, 0]);
      ranges[n] = [round6(lo), round6(hi)];
    }
    return ranges satisfies ActivationRanges;
  });
}
