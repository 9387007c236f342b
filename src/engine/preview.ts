import { runTool } from './children';
import { FFMPEG_QUIET } from './ffmpeg-tools';

export const PREVIEW_WIDTH = 320;

/** Box-filter downscale of packed RGB24 by an integer factor (cheap enough for a 1/s preview of an 8K frame). */
export function downscaleRgb(src: Uint8Array, width: number, height: number, factor: number) {
  const w = Math.max(1, Math.floor(width / factor));
  const h = Math.max(1, Math.floor(height / factor));
  if (factor <= 1) return { data: src, width, height };
  const out = Buffer.allocUnsafe(w * h * 3);
  const n = factor * factor;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let dy = 0; dy < factor; dy++) {
        let i = ((y * factor + dy) * width + x * factor) * 3;
        for (let dx = 0; dx < factor; dx++, i += 3) {
          r += src[i];
          g += src[i + 1];
          b += src[i + 2];
        }
      }
      const o = (y * w + x) * 3;
      out[o] = Math.round(r / n);
      out[o + 1] = Math.round(g / n);
      out[o + 2] = Math.round(b / n);
    }
  }
  return { data: out, width: w, height: h };
}

/**
 * A small JPEG (≤ PREVIEW_WIDTH wide) of an RGB24 frame, made by a short ffmpeg call over pipes (nothing on disk).
 * Returns the JPEG and the preview size.
 */
export async function previewJpeg(
  ffmpeg: string,
  frame: Uint8Array,
  width: number,
  height: number,
): Promise<{ jpeg: Buffer; width: number; height: number }> {
  const small = downscaleRgb(frame, width, height, Math.max(1, Math.floor(width / PREVIEW_WIDTH)));
  const pw = Math.min(PREVIEW_WIDTH, small.width - (small.width % 2));
  const args = [
    ...FFMPEG_QUIET,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${small.width}x${small.height}`,
    '-i',
    'pipe:0',
    '-vf',
    `scale=${pw}:-2:flags=area`,
    '-frames:v',
    '1',
    '-q:v',
    '6',
    '-f',
    'image2pipe',
    '-c:v',
    'mjpeg',
    'pipe:1',
  ];
  const r = await runTool(ffmpeg, args, small.data);
  if (r.code !== 0) throw new Error(`preview encoder exited ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  const jpeg = r.stdout;
  return { jpeg, width: pw, height: Math.round((small.height * pw) / small.width / 2) * 2 };
}
