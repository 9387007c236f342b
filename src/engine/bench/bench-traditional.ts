import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runTool } from '../children';
import { codecArgs, type EncoderSettings } from '../ffmpeg/encoder';
import { FFMPEG_QUIET } from '../ffmpeg/ffmpeg-tools';
import type { MediaInfo } from '../ffmpeg/probe';
import type { FrameUpscaler } from '../pipeline/pipeline-types';
import { resolveTarget } from '../pipeline/target-size';

/**
 * The way video2x-style tools work, for comparison only: ffmpeg writes every frame to PNG files, each file is read,
 * upscaled and written back as a PNG, and a last ffmpeg run encodes the PNG sequence. Same model runner and the same
 * encoder settings as the streaming engine, so the difference is the files.
 */
export interface TraditionalResult {
  frames: number;
  seconds: number;
  fps: number;
  /** Largest total size of the PNG folders seen during the run. */
  peakIntermediateBytes: number;
}

async function ffmpegRun(ffmpeg: string, args: string[], stdin?: Uint8Array): Promise<Buffer> {
  const r = await runTool(ffmpeg, [...FFMPEG_QUIET, ...args], stdin);
  if (r.code !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${r.error ?? r.stderr}`);
  return r.stdout;
}

function folderBytes(...dirs: string[]): number {
  let total = 0;
  for (const d of dirs) for (const f of readdirSync(d)) total += statSync(join(d, f)).size;
  return total;
}

export async function runTraditional(
  ffmpeg: string,
  info: MediaInfo,
  frames: number,
  upscaler: FrameUpscaler,
  workDir: string,
  output: string,
  encoder: EncoderSettings = { codec: 'libx264' },
): Promise<TraditionalResult> {
  const t0 = performance.now();
  const inDir = join(workDir, 'frames-in');
  const outDir = join(workDir, 'frames-out');
  mkdirSync(inDir);
  mkdirSync(outDir);
  await ffmpegRun(ffmpeg, ['-i', info.path, '-map', '0:v:0', '-frames:v', String(frames), join(inDir, '%06d.png')]);
  let peak = folderBytes(inDir);
  const { width, height } = info;
  const s = upscaler.scale;
  const names = readdirSync(inDir).sort();
  for (const name of names) {
    const rgb = await ffmpegRun(ffmpeg, ['-i', join(inDir, name), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    if (rgb.length !== width * height * 3)
      throw new Error(`${name}: ${rgb.length} bytes, expected ${width * height * 3}`);
    const up = await upscaler.upscale(rgb, width, height);
    const size = `${width * s}x${height * s}`;
    await ffmpegRun(
      ffmpeg,
      ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', size, '-i', 'pipe:0', '-y', join(outDir, name)],
      up,
    );
    peak = Math.max(peak, folderBytes(inDir, outDir));
  }
  const target = resolveTarget({ width: info.displayWidth, height: info.displayHeight }, {});
  await ffmpegRun(ffmpeg, [
    '-y',
    '-framerate',
    info.fpsRational,
    '-i',
    join(outDir, '%06d.png'),
    '-vf',
    `scale=${target.width}:${target.height}:flags=lanczos:out_color_matrix=bt709:out_range=tv,format=yuv420p`,
    ...codecArgs(encoder),
    output,
  ]);
  const seconds = (performance.now() - t0) / 1000;
  return { frames: names.length, seconds, fps: names.length / seconds, peakIntermediateBytes: peak };
}
