import type { TileModel } from './upscaler';

/** `--model null`: the id that selects the built-in nearest-neighbour upscaler instead of an ONNX model. */
export const NULL_MODEL_ID = 'null';
export const NULL_MODEL_SCALE = 4;

/**
 * A ×scale nearest-neighbour "model" without onnxruntime, for measuring everything around the model: it sits
 * exactly where the session's output arrives (tiles, stages, pipes, segments and encoder all run as usual) and
 * costs one pass over the output. Each input row is widened once into the first of its output rows; the other
 * scale−1 rows are copies of it.
 */
export function nullTileModel(scale = NULL_MODEL_SCALE): TileModel {
  const deviceMs = simulatedDeviceMs();
  return {
    scale,
    async runTile(input, width, height, out) {
      if (deviceMs > 0) await new Promise((r) => setTimeout(r, deviceMs));
      if (input.byteLength !== width * height * 3 || out.byteLength !== input.byteLength * scale * scale) {
        throw new RangeError(`null model: ${input.byteLength} → ${out.byteLength} bytes for a ${width}x${height} tile`);
      }
      const outRow = width * scale * 3;
      for (let y = 0; y < height; y++) {
        let s = y * width * 3;
        const first = y * scale * outRow;
        let d = first;
        for (let x = 0; x < width; x++, s += 3) {
          const r = input[s];
          const g = input[s + 1];
          const b = input[s + 2];
          for (let k = 0; k < scale; k++, d += 3) {
            out[d] = r;
            out[d + 1] = g;
            out[d + 2] = b;
          }
        }
        for (let k = 1; k < scale; k++) out.copyWithin(first + k * outRow, first, first + outRow);
      }
    },
  };
}

/**
 * HUAJU4K_NULL_DEVICE_MS: time each null-model call waits, as if a device were busy (each frame with --tile 0),
 * without using a core: what the farm benchmark's workers spend "on the GPU" (npm run bench:farm).
 */
export function simulatedDeviceMs(): number {
  const ms = Number(process.env.HUAJU4K_NULL_DEVICE_MS ?? 0);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}
