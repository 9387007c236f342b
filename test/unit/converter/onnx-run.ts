import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';

export interface Nchw {
  c: number;
  h: number;
  w: number;
  data: Float32Array;
}

export async function runOnnx(model: Uint8Array, x: Nchw): Promise<Nchw> {
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  try {
    const out = await session.run({ input: new ort.Tensor('float32', x.data, [1, x.c, x.h, x.w]) });
    const t = out.output;
    const [, c, h, w] = t.dims;
    return { c, h, w, data: t.data as Float32Array };
  } finally {
    await session.release();
  }
}

export const decodeModel = (bytes: Uint8Array): onnx.ModelProto => onnx.ModelProto.decode(bytes);

/** A deterministic, non-trivial test input. */
export function sampleInput(c: number, h: number, w: number): Nchw {
  const data = new Float32Array(c * h * w).map((_, i) => ((i * 37) % 23) / 23 - 0.3);
  return { c, h, w, data };
}

export const at = (t: Nchw, c: number, y: number, x: number): number => t.data[(c * t.h + y) * t.w + x];

export function mapNchw(c: number, h: number, w: number, f: (c: number, y: number, x: number) => number): Nchw {
  const data = new Float32Array(c * h * w);
  for (let k = 0; k < c; k++)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(k * h + y) * w + x] = f(k, y, x);
  return { c, h, w, data };
}

/** 1×1 convolution, weights [out][in] row-major. */
export function conv1x1(x: Nchw, weights: number[], bias: number[], out: number): Nchw {
  return mapNchw(out, x.h, x.w, (o, y, xx) => {
    let s = bias[o] ?? 0;
    for (let i = 0; i < x.c; i++) s += weights[o * x.c + i] * at(x, i, y, xx);
    return s;
  });
}

export function assertClose(actual: Nchw, expected: Nchw, tol = 1e-5): void {
  if (actual.c !== expected.c || actual.h !== expected.h || actual.w !== expected.w) {
    throw new Error(`shape ${actual.c}×${actual.h}×${actual.w} != expected ${expected.c}×${expected.h}×${expected.w}`);
  }
  for (let i = 0; i < actual.data.length; i++) {
    if (Math.abs(actual.data[i] - expected.data[i]) > tol) {
      throw new Error(`value ${i}: ${actual.data[i]} != expected ${expected.data[i]}`);
    }
  }
}
