/**
 * Tiling for models whose cost grows with the input area: the frame is cut into tiles of `tile` low-res pixels,
 * each grown by `pad` pixels of real neighbouring content (clipped at the frame border), upscaled, and only the
 * tile's own area is copied into the output. Every output pixel therefore comes from a tile that saw at least `pad`
 * pixels of context around it, so no seam shows where tiles meet.
 */
export interface TileRect {
  /** The tile's own area in low-res pixels (what it contributes). */
  x: number;
  y: number;
  w: number;
  h: number;
  /** The padded area fed to the model (inside the frame). */
  px: number;
  py: number;
  pw: number;
  ph: number;
}

export const MIN_TILE_PAD = 10;

/** `tile` ≤ 0 or ≥ the frame means one tile covering the frame (no padding needed). */
export function planTiles(width: number, height: number, tile: number, pad = MIN_TILE_PAD): TileRect[] {
  const tw = tile > 0 ? Math.min(tile, width) : width;
  const th = tile > 0 ? Math.min(tile, height) : height;
  const rects: TileRect[] = [];
  for (let y = 0; y < height; y += th) {
    for (let x = 0; x < width; x += tw) {
      const w = Math.min(tw, width - x);
      const h = Math.min(th, height - y);
      const px = Math.max(0, x - pad);
      const py = Math.max(0, y - pad);
      const pw = Math.min(width, x + w + pad) - px;
      const ph = Math.min(height, y + h + pad) - py;
      rects.push({ x, y, w, h, px, py, pw, ph });
    }
  }
  return rects;
}

/**
 * Copies a w×h region of one packed RGB24 image into another, one row at a time (`set` of a row is a memcpy):
 * from `(sx, sy)` in `src` (width `srcWidth`) to `(dx, dy)` in `dst` (width `dstWidth`). Tiles are cut out of the
 * frame and stitched back into the output this way; no per-pixel loop.
 */
export function copyRgbRegion(
  src: Uint8Array,
  srcWidth: number,
  sx: number,
  sy: number,
  dst: Uint8Array,
  dstWidth: number,
  dx: number,
  dy: number,
  w: number,
  h: number,
): void {
  const rowBytes = w * 3;
  for (let y = 0; y < h; y++) {
    const s = ((sy + y) * srcWidth + sx) * 3;
    dst.set(src.subarray(s, s + rowBytes), ((dy + y) * dstWidth + dx) * 3);
  }
}
