import { freemem } from 'node:os';

/**
 * Rough working memory of a compact Real-ESRGAN (SRVGGNet, 64 channels, fp32) per low-res input pixel on CPU:
 * a few live 64-channel activations plus the ×16 output. The GPU memory manager replaces this with a calibration.
 */
export const BYTES_PER_LR_PIXEL = 4096;

/**
 * `--tile auto`: the largest square tile (multiple of 16, 64…1024) whose working memory fits a quarter of the free
 * memory; 0 (no tiling) when the whole frame fits.
 */
export function autoTile(
  width: number,
  height: number,
  freeBytes = freemem(),
  bytesPerPixel = BYTES_PER_LR_PIXEL,
): number {
  const pixels = (freeBytes * 0.25) / bytesPerPixel;
  if (width * height <= pixels) return 0;
  const side = Math.floor(Math.sqrt(pixels) / 16) * 16;
  return Math.max(64, Math.min(1024, side));
}

export function parseTileOption(text: string | undefined): number | 'auto' {
  if (text === undefined || text === 'auto') return 'auto';
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || (n > 0 && n < 32)) {
    throw new RangeError(`--tile must be "auto", 0 (whole frame) or an integer ≥ 32, got "${text}"`);
  }
  return n;
}
