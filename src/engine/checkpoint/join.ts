import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../protocol/engine-events';
import { children } from '../children';
import { EngineError, stderrTail } from '../errors';
import { FFMPEG_QUIET } from '../ffmpeg-tools';
import type { MediaInfo } from '../probe';
import { planStreams, type StreamWarning } from '../stream-map';
import type { JobManifest } from './manifest';

export interface JoinOptions {
  ffmpeg: string;
  dir: string;
  manifest: JobManifest;
  source: MediaInfo;
  /** Where the joined file goes (the caller verifies it and renames it to the output). */
  output: string;
  /** Trims audio/subtitles to the video (the job's --max-frames); seconds. */
  durationS?: number;
}

/** Concat list for ffmpeg's concat demuxer (paths quoted the way it parses them). */
export function concatList(dir: string, files: string[]): string {
  return files.map((f) => `file '${join(dir, f).replaceAll("'", "'\\''")}'\n`).join('');
}

/**
 * ffmpeg args that join the segments without re-encoding and add the source's audio/subtitles/metadata. The
 * video start offset of the source is applied here, once, with -itsoffset (a per-segment offset would add up).
 */
export function joinArgs(o: JoinOptions, listPath: string): { args: string[]; warnings: StreamWarning[] } {
  const plan = planStreams(o.source, o.output);
  const off = o.source.videoStartS > 0.0005 ? ['-itsoffset', o.source.videoStartS.toFixed(6)] : [];
  const trim = o.durationS !== undefined ? ['-t', (o.durationS + o.source.videoStartS).toFixed(6)] : [];
  const args = [
    ...FFMPEG_QUIET,
    '-y',
    ...off,
    '-f',
    'concat',
    '-safe',
    '0',
    '-i',
    listPath,
    ...(plan.mapsSource ? ['-i', o.source.path] : []),
    '-map',
    '0:v:0',
    '-c:v',
    'copy',
    ...plan.args,
    ...(plan.mapsSource ? ['-map_metadata', '1', '-map_chapters', '1'] : []),
    ...trim,
    ...(plan.container === 'mkv' ? [] : ['-movflags', '+faststart']),
    o.output,
  ];
  return { args, warnings: plan.warnings };
}

export async function joinSegments(o: JoinOptions): Promise<void> {
  const listPath = join(o.dir, 'concat.txt');
  writeFileSync(
    listPath,
    concatList(
      o.dir,
      o.manifest.segments.map((s) => s.file),
    ),
  );
  const { args } = joinArgs(o, listPath);
  let stderr = '';
  const code = await new Promise<number | string>((resolve) => {
    const child = children.add(spawn(o.ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    child.once('error', (err) => resolve(String(err)));
    child.once('close', (c, signal) => resolve(c ?? signal ?? -1));
  });
  rmSync(listPath, { force: true });
  if (code === 0) return;
  rmSync(o.output, { force: true });
  if (/No space left on device/i.test(stderr)) {
    throw new EngineError(
      ExitCode.disk,
      'disk-full',
      `disk full while joining the segments into ${o.output}; the segments are kept`,
      'free some space (the join needs about as much again as the segments), then resume with --resume',
    );
  }
  throw new EngineError(
    ExitCode.failure,
    'join-failed',
    `joining the segments into ${o.output} failed (${code}): ${stderrTail(stderr) || 'no message'}`,
    'resume with --resume to retry the join',
  );
}
