/**
 * JPEG ⇄ packed RGB24 for the AI core, each by one short ffmpeg call over pipes (the engine's runTool: argv arrays,
 * reaped), the same way the engine makes its preview JPEGs. Every result's byte count is checked.
 */
import { runTool } from '../../engine/children';
import { FFMPEG_QUIET } from '../../engine/ffmpeg/ffmpeg-tools';
import type { Size } from '../../engine/pipeline/target-size';
import { jpegDimensions } from '../jpeg';
import { jpegEncoderArgs } from './jpeg-encoder';

export interface RgbFrame {
  rgb: Buffer;
  width: number;
  height: number;
}

function failure(what: string, code: number, stderr: string): Error {
  const said = stderr.trim().split('\n').slice(-2).join(' | ');
  return new Error(`${what}: ffmpeg exited with ${code}${said ? `: ${said}` : ''}`);
}

export async function decodeJpeg(ffmpeg: string, jpeg: Buffer): Promise<RgbFrame> {
  const size = jpegDimensions(jpeg);
  if (!size) throw new Error('not a JPEG with a frame header (SOFn)');
  const args = [...FFMPEG_QUIET, '-f', 'mjpeg', '-i', 'pipe:0', '-frames:v', '1'];
  const r = await runTool(ffmpeg, [...args, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], jpeg);
  if (r.code !== 0) throw failure(`decoding a ${size.width}x${size.height} JPEG`, r.code, r.stderr);
  const want = size.width * size.height * 3;
  if (r.stdout.length !== want) {
    throw new Error(`decoded ${r.stdout.length} bytes, expected ${want} for ${size.width}x${size.height} rgb24`);
  }
  return { rgb: r.stdout, width: size.width, height: size.height };
}

/**
 * Encodes one RGB24 frame as a JPEG (4:4:4, `quality` = ffmpeg's -q:v, 1 best), resized to `out` with lanczos when
 * it differs from the frame (a ×4 model asked for ×2 or a target box). A stream uses JpegEncoderStream instead.
 */
export async function encodeJpeg(frame: RgbFrame, out: Size, quality: number, ffmpeg: string): Promise<Buffer> {
  const { rgb, width, height } = frame;
  if (rgb.length !== width * height * 3) throw new RangeError(`${rgb.length} bytes is not ${width}x${height} rgb24`);
  const r = await runTool(ffmpeg, jpegEncoderArgs({ width, height }, out, quality, 1), rgb);
  if (r.code !== 0) throw failure(`encoding a ${out.width}x${out.height} JPEG`, r.code, r.stderr);
  return r.stdout;
}
