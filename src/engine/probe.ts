import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ExitCode, type ProbeInfo } from '../protocol/engine-events';
import {
  type FfprobeOutput,
  type FfprobeStream,
  firstVideoStream,
  geometryOf,
  parseRational,
} from '../protocol/ffprobe';
import { EngineError, stderrTail } from './errors';
import { countPackets } from './verify';

/** Probe result plus what the decoder/encoder need beyond the public protocol shape. */
export interface MediaInfo extends ProbeInfo {
  /** Absolute stream index of the chosen video stream (cover art skipped). */
  videoStreamIndex: number;
  audio: StreamRef[];
  subtitles: StreamRef[];
}

export interface StreamRef {
  /** Absolute stream index in the source. */
  index: number;
  codec: string;
}

function runFfprobe(ffprobe: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffprobe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export function bitDepthOf(pixFmt: string, rawBits?: string): number {
  const raw = Number(rawBits);
  if (raw > 0) return raw;
  const m = /p(\d+)(le|be)?$/.exec(pixFmt);
  return m ? Number(m[1]) : 8;
}

const numOr = (text: string | undefined, fallback: number): number => {
  const v = Number(text);
  return Number.isFinite(v) && text !== undefined && text !== '' ? v : fallback;
};

/** The input's size in bytes; a missing path and a folder each get their own message. */
async function inputFileSize(path: string): Promise<number> {
  const st = await stat(path).catch(() => undefined);
  if (st?.isDirectory()) {
    throw new EngineError(
      ExitCode.badInput,
      'input-is-folder',
      `the input ${path} is a folder, not a video file`,
      'give one video file; to enhance a whole folder, run huaju4k enhance once per file',
    );
  }
  if (!st?.isFile()) {
    throw new EngineError(
      ExitCode.badInput,
      'input-missing',
      `input not found: ${path}`,
      'check the path; it must be a video file',
    );
  }
  return st.size;
}

/** ffmpeg reads a lone JPEG/PNG (whatever its extension) as a one-frame "video": say what it is instead. */
function checkNotAStillImage(path: string, formatName: string | undefined): void {
  if (formatName === 'image2' || /_pipe$/.test(formatName ?? '')) {
    throw new EngineError(
      ExitCode.badInput,
      'input-is-image',
      `${path} is a still image (${formatName?.replace(/_pipe$/, '')}), not a video`,
      'huaju4k enhances videos; give it a video file (an image sequence can be made into one with ffmpeg -i img%04d.png)',
    );
  }
}

type ProbedFormat = NonNullable<FfprobeOutput['format']>;

/** ffprobe's JSON for `path`; a file ffprobe cannot read as a container is refused as not a video. */
async function readFfprobe(ffprobe: string, path: string): Promise<{ format: ProbedFormat; streams: FfprobeStream[] }> {
  const r = await runFfprobe(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path]);
  let out: FfprobeOutput = {};
  try {
    out = JSON.parse(r.stdout || '{}') as FfprobeOutput;
  } catch {
    out = {};
  }
  if (r.code !== 0 || !out.format) {
    throw new EngineError(
      ExitCode.badInput,
      'not-a-video',
      `${path} is not a video ffmpeg can read: it is damaged, incomplete (still being copied or downloaded?) or another kind of file`,
      `check that it plays in a video player${r.stderr ? `; ffprobe said: ${stderrTail(r.stderr, 2)}` : ''}`,
    );
  }
  return { format: out.format, streams: out.streams ?? [] };
}

/** The first real video stream: cover art (an attached picture) and streams without a size are skipped. */
function videoStreamOf(path: string, streams: FfprobeStream[]): FfprobeStream {
  const v = firstVideoStream(streams);
  if (!v) {
    throw new EngineError(
      ExitCode.badInput,
      'no-video-stream',
      `no video stream in ${path}`,
      'pick a file with a video track',
    );
  }
  return v;
}

/** Frame rate (average, else nominal), a VFR guess, duration, the frame count, and where the video starts. */
async function timingOf(
  ffprobe: string,
  path: string,
  v: FfprobeStream,
  format: ProbedFormat,
): Promise<Pick<MediaInfo, 'fps' | 'fpsRational' | 'vfr' | 'durationS' | 'frameCountEstimate' | 'videoStartS'>> {
  const rFps = parseRational(v.r_frame_rate);
  const avgFps = parseRational(v.avg_frame_rate);
  const fps = avgFps > 0 ? avgFps : rFps;
  const fpsRational = avgFps > 0 ? (v.avg_frame_rate as string) : (v.r_frame_rate ?? '25/1');
  const vfr = rFps > 0 && avgFps > 0 && Math.abs(rFps - avgFps) / rFps > 0.01;
  const durationS = numOr(v.duration, numOr(format.duration, 0));
  let frames = Number(v.nb_frames) || 0;
  // Exact packet count (demux only, no decode) where the container declares no frame count.
  if (!frames) frames = Math.max(0, await countPackets(ffprobe, path, String(v.index)));
  if (!frames) frames = Math.max(1, Math.round(durationS * fps));
  const formatStart = numOr(format.start_time, 0);
  const videoStart = numOr(v.start_time, formatStart);
  return {
    fps,
    fpsRational,
    vfr,
    durationS,
    frameCountEstimate: frames,
    videoStartS: Math.max(0, videoStart - formatStart),
  };
}

/**
 * ffprobe metadata of `path`: the first real video stream (cover art skipped), its size after autorotation and after
 * the sample aspect ratio, frame rate and a VFR guess, colour tags, and the audio/subtitle streams to carry over.
 */
export async function probeMedia(ffprobe: string, given: string): Promise<MediaInfo> {
  // Absolute from here on: ffmpeg and ffprobe would read a relative name such as "-clip.mp4" as an option.
  const path = resolve(given);
  const sizeBytes = await inputFileSize(path);
  const { format, streams } = await readFfprobe(ffprobe, path);
  const v = videoStreamOf(path, streams);
  checkNotAStillImage(path, format.format_name);
  const geometry = geometryOf(v);
  const timing = await timingOf(ffprobe, path, v, format);
  const pixFmt = v.pix_fmt ?? 'unknown';
  return {
    path,
    sizeBytes,
    container: format.format_name ?? 'unknown',
    durationS: timing.durationS,
    ...geometry,
    codec: v.codec_name ?? 'unknown',
    pixFmt,
    bitDepth: bitDepthOf(pixFmt, v.bits_per_raw_sample),
    fps: timing.fps,
    fpsRational: timing.fpsRational,
    vfr: timing.vfr,
    frameCountEstimate: timing.frameCountEstimate,
    colorMatrix: v.color_space,
    colorRange: v.color_range,
    colorPrimaries: v.color_primaries,
    colorTransfer: v.color_transfer,
    fieldOrder: v.field_order,
    audioStreams: streams.filter((s) => s.codec_type === 'audio').length,
    subtitleStreams: streams.filter((s) => s.codec_type === 'subtitle').length,
    videoStartS: timing.videoStartS,
    videoStreamIndex: v.index,
    audio: refs(streams, 'audio'),
    subtitles: refs(streams, 'subtitle'),
  };
}

function refs(streams: FfprobeStream[], type: string): StreamRef[] {
  return streams
    .filter((s) => s.codec_type === type)
    .map((s) => ({ index: s.index, codec: s.codec_name ?? 'unknown' }));
}

/** Only the public protocol fields (what `probe --json` prints and `start` carries). */
export function toProbeInfo(info: MediaInfo): ProbeInfo {
  const { videoStreamIndex: _i, audio: _a, subtitles: _s, ...pub } = info;
  return pub;
}
