import * as ort from 'onnxruntime-node';
import { clipPath, decodeRgbFrames, rgbToPlanar } from '../../../tools/models/calibrate';

/** Ground truth (a real clip's frames) and the model input (the truth downscaled ×4, area average). */
export interface TruthFrames {
  name: string;
  width: number;
  height: number;
  truth: Uint8Array[];
  input: Uint8Array[];
}

/**
 * Frames of a real clip that the int8 calibration did not see (it took cockatoo frames 0, 35, 70…): `select` picks
 * them, the truth is scaled to width×height and the input is the truth ×¼.
 */
export function truthFrames(file: string, select: string, width: number, height: number): TruthFrames {
  const path = clipPath(file);
  const base = `select='${select}',scale=${width}:${height}:flags=area`;
  const truth = decodeRgbFrames(path, base, width, height);
  const input = decodeRgbFrames(path, `${base},scale=${width / 4}:${height / 4}:flags=area`, width / 4, height / 4);
  return { name: file, width, height, truth, input };
}

/** Runs a whole frame through a session and returns packed RGB24 (clamped, rounded: what the engine writes). */
export async function upscaleRgb(session: ort.InferenceSession, rgb: Uint8Array, w: number, h: number) {
  const input = new ort.Tensor('float32', rgbToPlanar(rgb, w, h), [1, 3, h, w]);
  const out = (await session.run({ [session.inputNames[0]]: input }))[session.outputNames[0]];
  const [, , oh, ow] = out.dims;
  const data = out.data as Float32Array;
  const plane = oh * ow;
  const rgbOut = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++)
    for (let c = 0; c < 3; c++) rgbOut[i * 3 + c] = Math.round(Math.min(1, Math.max(0, data[c * plane + i])) * 255);
  return rgbOut;
}

/** The same through a loaded model, whose session takes and returns rgb24 itself (model/rgb24-io.ts). */
export async function upscaleLoaded(session: ort.InferenceSession, rgb: Uint8Array, w: number, h: number) {
  const input = new ort.Tensor('uint8', rgb, [1, h, w, 3]);
  return (await session.run({ [session.inputNames[0]]: input }))[session.outputNames[0]].data as Uint8Array;
}
