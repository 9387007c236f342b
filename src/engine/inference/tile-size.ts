/**
 * Rough working memory of a compact Real-ESRGAN (SRVGGNet, 64 channels, fp32) per low-res input pixel on CPU:
 * a few live 64-channel activations plus the ×16 output. The GPU memory manager replaces this with a calibration.
 */
export const BYTES_PER_LR_PIXEL = 4096;

export function parseTileOption(text: string | undefined): number | 'auto' {
  if (text === undefined || text === 'auto') return 'auto';
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || (n > 0 && n < 32)) {
    throw new RangeError(`--tile must be "auto", 0 (whole frame) or an integer ≥ 32, got "${text}"`);
  }
  return n;
}
