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
 * Packed RGB24 region → planar float32 RGB in 0..1 (the model's NCHW input), into `out` (reused across tiles).
 */
export function rgbToPlanar(
  src: Uint8Array,
  srcWidth: number,
  rx: number,
  ry: number,
  rw: number,
  rh: number,
  out: Float32Array,
): Float32Array {
  const plane = rw * rh;
  const inv = 1 / 255;
  let o = 0;
  for (let y = 0; y < rh; y++) {
    let i = ((ry + y) * srcWidth + rx) * 3;
    for (let x = 0; x < rw; x++, o++, i += 3) {
      out[o] = src[i] * inv;
      out[o + plane] = src[i + 1] * inv;
      out[o + 2 * plane] = src[i + 2] * inv;
    }
  }
  return out;
}

/**
 * Copies part of the model's planar float output (0..1, size ow×oh) into the packed RGB24 frame: ×255, clamp,
 * round (a Uint8ClampedArray view does the clamp and rounding in the store). `(sx, sy)` is where the wanted part starts inside the tile output, `(dx, dy, w, h)` where it goes.
 */
export function planarToRgb(
  src: Float32Array,
  ow: number,
  oh: number,
  sx: number,
  sy: number,
  dst: Uint8Array,
  dstWidth: number,
  dx: number,
  dy: number,
  w: number,
  h: number,
): void {
  const plane = ow * oh;
  const out = new Uint8ClampedArray(dst.buffer, dst.byteOffset, dst.byteLength);
  for (let y = 0; y < h; y++) {
    let s = (sy + y) * ow + sx;
    let d = ((dy + y) * dstWidth + dx) * 3;
    for (let x = 0; x < w; x++, s++, d += 3) {
      out[d] = src[s] * 255;
      out[d + 1] = src[s + plane] * 255;
      out[d + 2] = src[s + 2 * plane] * 255;
    }
  }
}
