import { type StartedTool, startTool } from '../children';
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
 * Small JPEGs (≤ PREVIEW_WIDTH wide) of RGB24 frames of one size, made by one long-lived ffmpeg over pipes (nothing
 * on disk): spawning an ffmpeg per preview from the engine's large process cost the main thread ~10 % of a
 * temporal run (issue 33). Frames go in as rawvideo, JPEGs come back in order (image2pipe, each SOI … EOI); with
 * no probing and one thread ffmpeg answers each frame before the next arrives. One frame at a time (the caller
 * waits for each). A failed or closed encoder rejects; close() ends it and waits for its exit.
 */
export class PreviewJpegEncoder {
  private tool?: StartedTool;
  private pending?: { resolve: (jpeg: Buffer) => void; reject: (e: Error) => void };
  private chunks: Buffer[] = [];
  private size?: { width: number; height: number; pw: number };
  private failed?: Error;

  constructor(private readonly ffmpeg: string) {}

  /** The JPEG of `frame` (width × height rgb24) and its size; every call must give the size of the first. */
  async encode(
    frame: Uint8Array,
    width: number,
    height: number,
  ): Promise<{ jpeg: Buffer; width: number; height: number }> {
    const small = downscaleRgb(frame, width, height, Math.max(1, Math.floor(width / PREVIEW_WIDTH)));
    const pw = Math.min(PREVIEW_WIDTH, small.width - (small.width % 2));
    this.size ??= { width: small.width, height: small.height, pw };
    if (small.width !== this.size.width || small.height !== this.size.height)
      throw new RangeError(`preview: frame ${width}x${height}, the encoder was started for another size`);
    if (this.failed) throw this.failed;
    if (this.pending) throw new Error('preview: one frame at a time');
    const tool = this.tool ?? this.start(this.size);
    const jpeg = new Promise<Buffer>((resolve, reject) => {
      this.pending = { resolve, reject };
    });
    tool.child.stdin?.write(small.data);
    return { jpeg: await jpeg, width: pw, height: Math.round((small.height * pw) / small.width / 2) * 2 };
  }

  /** Ends the encoder (its stdin closed) and waits for it to exit. */
  async close(): Promise<void> {
    const tool = this.tool;
    this.failed ??= new Error('preview encoder closed');
    if (!tool) return;
    tool.child.stdin?.end();
    await tool.exited;
  }

  private start(size: { width: number; height: number; pw: number }): StartedTool {
    const args = [
      ...FFMPEG_QUIET,
      ...['-probesize', '32', '-analyzeduration', '0', '-f', 'rawvideo', '-pix_fmt', 'rgb24'],
      ...['-s', `${size.width}x${size.height}`, '-i', 'pipe:0', '-vf', `scale=${size.pw}:-2:flags=area`],
      ...['-q:v', '6', '-threads', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', '-flush_packets', '1', 'pipe:1'],
    ];
    const tool = startTool(this.ffmpeg, args, ['pipe', 'pipe', 'pipe']);
    this.tool = tool;
    tool.child.stdin?.on('error', () => {});
    tool.child.stdout?.on('data', (d: Buffer) => this.take(d));
    void tool.exited.then(({ code, error }) => {
      const why = error?.message ?? tool.stderr().trim().split('\n').pop() ?? '';
      this.fail(new Error(`preview encoder exited ${code}: ${why}`));
    });
    return tool;
  }

  /**
   * Collects stdout; stdout ending in EOI (FF D9) completes the JPEG waited for. In the entropy-coded data FF is
   * always followed by 00 or a restart marker, and ffmpeg writes each JPEG in one flush, so a read that ends in
   * FF D9 ends the image.
   */
  private take(d: Buffer): void {
    this.chunks.push(d);
    const before = d.length >= 2 ? d[d.length - 2] : this.chunks.at(-2)?.at(-1);
    if (before !== 0xff || d[d.length - 1] !== 0xd9) return;
    const jpeg = Buffer.concat(this.chunks);
    this.chunks = [];
    const p = this.pending;
    this.pending = undefined;
    p?.resolve(jpeg);
  }

  private fail(e: Error): void {
    this.failed ??= e;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(this.failed);
  }
}
