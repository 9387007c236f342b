import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../protocol/engine-events';
import { runTool } from '../children';
import { EngineError, isDiskFull, stderrTail } from '../errors';
import { outputFrameRate } from '../ffmpeg/encoder';
import { FFMPEG_QUIET } from '../ffmpeg/ffmpeg-tools';
import type { MediaInfo } from '../ffmpeg/probe';
import { planStreams, type StreamWarning, type TreatedAudio } from '../ffmpeg/stream-map';
import { framesDone, type JobManifest, type SegmentRecord } from './manifest';

export interface JoinOptions {
  ffmpeg: string;
  dir: string;
  manifest: JobManifest;
  source: MediaInfo;
  /** Where the joined file goes (the caller verifies it and renames it to the output). */
  output: string;
  /** Trims audio/subtitles to the video (the job's --max-frames); seconds. */
  durationS?: number;
  /** The audio stream re-encoded through the job's measured filter (--audio clean|stage). */
  audio?: TreatedAudio;
}

/**
 * Concat list for ffmpeg's concat demuxer (paths quoted the way it parses them). With `durationsUs`, each file gets
 * a `duration` line: the demuxer starts the next file that much later instead of at this file's own end.
 */
export function concatList(dir: string, files: string[], durationsUs?: number[]): string {
  return files
    .map((f, i) => {
      const d = durationsUs?.[i];
      return `file '${join(dir, f).replaceAll("'", "'\\''")}'\n${d === undefined ? '' : `duration ${d}us\n`}`;
    })
    .join('');
}

const timed = (segments: SegmentRecord[]): boolean =>
  segments.length > 0 && segments.every((s) => s.firstPts !== undefined && s.lastPts !== undefined);

/** One frame at the source's average rate, in ticks of its time base: the last frame's duration. */
function lastFrameTicks(source: MediaInfo): number {
  const [num, den] = source.videoTimeBase.split('/').map(Number);
  const fps = outputFrameRate(source).fps || 25;
  return Math.max(1, Math.round(den / (num * fps)));
}

/**
 * Where each timed segment starts, in whole microseconds from the first frame, plus where the video ends: each
 * rounded from its own source time (never summed), so the error stays under 0.5 µs however many segments.
 */
function segmentStartsUs(segments: SegmentRecord[], source: MediaInfo): number[] {
  const [num, den] = source.videoTimeBase.split('/').map(Number);
  const t0 = segments[0].firstPts ?? 0;
  const us = (ticks: number) => Math.round(((ticks - t0) * num * 1e6) / den);
  const last = segments[segments.length - 1];
  return [...segments.map((s) => us(s.firstPts ?? 0)), us((last.lastPts ?? 0) + lastFrameTicks(source))];
}

/**
 * Length of the joined video in seconds: from the first frame's time to the end of the last frame (timed
 * segments), else the frames at the encoded rate. What --max-frames trims the audio and subtitles to.
 */
export function videoSpanS(manifest: JobManifest, source: MediaInfo): number {
  if (!timed(manifest.segments)) return framesDone(manifest) / outputFrameRate(source).fps;
  return (segmentStartsUs(manifest.segments, source).at(-1) ?? 0) / 1e6;
}

/**
 * The last frame's duration for an .mp4/.mov join of timed (VFR) segments: the mp4 demuxer hands the concat demuxer
 * no packet durations, so the muxer ended the track one tick after the last frame's time (the frame flashed). The
 * `setts` bitstream filter gives the last packet (in decode order) the duration that ends the track at the video's
 * end; mov ends a track at that packet's pts + duration. Matroska ends at the concat `duration` already.
 */
function lastFrameEnd(o: JoinOptions, plan: { container: string }, offsetS: number): string[] {
  if (plan.container === 'mkv' || !timed(o.manifest.segments)) return [];
  const endS = (offsetS + videoSpanS(o.manifest, o.source)).toFixed(6);
  const last = framesDone(o.manifest) - 1;
  return ['-bsf:v', `setts=pts=PTS:dts=DTS:duration=if(eq(N\\,${last})\\,round(${endS}/TB)-PTS\\,DURATION)`];
}

/**
 * ffmpeg args that join the segments without re-encoding and add the source's audio/subtitles/metadata. The
 * video start offset of the source is applied here, once, with -itsoffset (a per-segment offset would add up).
 */
export function joinArgs(o: JoinOptions, listPath: string): { args: string[]; warnings: StreamWarning[] } {
  const plan = planStreams(o.source, o.output, o.audio);
  const offsetS = o.source.videoStartS > 0.0005 ? o.source.videoStartS : 0;
  const off = offsetS > 0 ? ['-itsoffset', offsetS.toFixed(6)] : [];
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
    ...lastFrameEnd(o, plan, offsetS),
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
  const segments = o.manifest.segments;
  const starts = timed(segments) ? segmentStartsUs(segments, o.source) : undefined;
  const durations = starts?.slice(1).map((end, i) => end - starts[i]);
  writeFileSync(
    listPath,
    concatList(
      o.dir,
      segments.map((s) => s.file),
      durations,
    ),
  );
  const { args } = joinArgs(o, listPath);
  const r = await runTool(o.ffmpeg, args);
  const code = r.error ? String(r.error) : (r.signal ?? r.code);
  const stderr = r.stderr;
  rmSync(listPath, { force: true });
  if (code === 0) return;
  rmSync(o.output, { force: true });
  if (isDiskFull(stderr)) {
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
