/** A tile of the low-res frame, in pixels. */
export interface TileBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A 2×2 patch may differ this many times more than the tile's mean before the tile counts as changed. */
export const PEAK_FACTOR = 6;

/**
 * How much a low-res RGB24 tile changed between `ref` and `cur`, in 0..255 levels: the larger of the mean |Δ| over
 * the tile and the largest 2×2-patch mean |Δ| divided by PEAK_FACTOR. The mean ignores compression noise (small,
 * everywhere); the patch peak catches a small object moving inside a tile that barely moves the mean.
 * A tile is reused when this is ≤ the threshold. With a shift, `cur`'s tile is compared with `ref` at box + shift
 * (the box moved by (dx, dy) must lie inside the frame).
 */
export function tileChange(cur: Uint8Array, ref: Uint8Array, width: number, box: TileBox, dx = 0, dy = 0): number {
  const stride = width * 3;
  const shift = dy * stride + dx * 3;
  let total = 0;
  let peak = 0;
  for (let y = box.y; y < box.y + box.h; y += 2) {
    const y2 = Math.min(y + 1, box.y + box.h - 1);
    for (let x = box.x; x < box.x + box.w; x += 2) {
      const x2 = Math.min(x + 1, box.x + box.w - 1);
      let patch = 0;
      let count = 0;
      for (let yy = y; yy <= y2; yy++) {
        for (let xx = x; xx <= x2; xx++) {
          const i = yy * stride + xx * 3;
          const r = i + shift;
          patch += Math.abs(cur[i] - ref[r]) + Math.abs(cur[i + 1] - ref[r + 1]) + Math.abs(cur[i + 2] - ref[r + 2]);
          count += 3;
        }
      }
      total += patch;
      const mean = patch / count;
      if (mean > peak) peak = mean;
    }
  }
  return Math.max(total / (box.w * box.h * 3), peak / PEAK_FACTOR);
}
