import { execFile } from 'node:child_process';

/** The longest side of the frames the compare view shows (bounded so a 4K pair stays a few hundred KiB). */
export const COMPARE_MAX_WIDTH = 1920;

/**
 * One frame of a video at `timeS`, scaled to `width`×`height` (bicubic, as a plain resize would), as JPEG bytes.
 * ffmpeg runs with an argv array and is reaped by execFile (timeout kills it).
 */
export function grabFrame(ffmpeg: string, file: string, timeS: number, width: number, height: number): Promise<Buffer> {
  // biome-ignore format: ffmpeg argv reads best as option/value pairs
  const args = [
    '-v', 'error', '-ss', timeS.toFixed(3), '-i', file, '-frames:v', '1',
    '-vf', `scale=${width}:${height}:flags=bicubic`, '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '3', '-',
  ];
  return new Promise((resolve, reject) => {
    execFile(ffmpeg, args, { encoding: 'buffer', maxBuffer: 64 * 2 ** 20, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err)
        reject(
          new Error(
            `ffmpeg could not read a frame of ${file} at ${timeS.toFixed(2)} s: ${stderr.toString().trim() || err.message}`,
          ),
        );
      else if (stdout.length === 0) reject(new Error(`no frame in ${file} at ${timeS.toFixed(2)} s`));
      else resolve(stdout);
    });
  });
}

/** The size both frames are shown at: the output's, bounded to COMPARE_MAX_WIDTH, even numbers. */
export function compareSize(outW: number, outH: number): { width: number; height: number } {
  const k = Math.min(1, COMPARE_MAX_WIDTH / Math.max(outW, outH));
  const even = (n: number) => Math.max(2, Math.round((n * k) / 2) * 2);
  return { width: even(outW), height: even(outH) };
}
