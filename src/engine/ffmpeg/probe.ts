import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ExitCode, type ProbeInfo } from '../../protocol/engine-events';
import {
  type FfprobeOutput,
  type FfprobeStream,
  firstVideoStream,
  geometryOf,
  parseRational,
} from '../../protocol/ffprobe';
import { runTool } from '../children';
import { EngineError, stderrTail } from '../errors';

/** Probe result plus what the decoder/encoder need beyond the public protocol shape. */
export interface MediaInfo extends ProbeInfo {
  /** Absolute stream index of the chosen video stream (cover art skipped). */
  videoStreamIndex: number;
  /** The video stream's time base (`num/den`): the unit of its frames' timestamps (kept per frame on VFR sources). */
  videoTimeBase: string;
  audio: StreamRef[];
  subtitles: StreamRef[];
}

export interface StreamRef {
  /** Absolute stream index in the source. */
  index: number;
  codec: string;
}

/** ffprobe's stdout as text; a failure to start it (ENOENT…) is thrown as it was. */
async function runFfprobe(ffprobe: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runTool(ffprobe, args);
  if (r.error) throw r.error;
  return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr };
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

function specialFileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}

/** The input's size in bytes; a missing path, a folder and a special file (FIFO, device) each get their own message. */
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
  if (st && !st.isFile()) {
    throw new EngineError(
      ExitCode.badInput,
      'input-not-a-file',
      `${path} is not a regular file (${specialFileKind(st)}): a video must be a file huaju4k can read twice and seek in`,
      'save the stream to a file first (ffmpeg -i <stream> -c copy clip.mkv), then enhance that file',
    );
  }
  if (!st) {
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

/**
 * A stream's packets by demux alone (no decoding): how many there are, and their presentation timestamps (time-base
 * ticks), sorted. A raw stream (.h264) has no timestamps: its packets still count.
 */
async function packetTimes(ffprobe: string, path: string, stream: number): Promise<{ count: number; pts: number[] }> {
  const r = await runFfprobe(ffprobe, [
    ...['-v', 'error', '-select_streams', String(stream), '-show_entries', 'packet=pts', '-of', 'csv=p=0', path],
  ]);
  if (r.code !== 0) return { count: 0, pts: [] };
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  const pts = lines.map((l) => Number.parseInt(l, 10));
  return { count: lines.length, pts: pts.filter((t) => Number.isFinite(t)).sort((a, b) => a - b) };
}

/**
 * Whether frames are unevenly spaced: steps between consecutive times that differ by more than one tick (a CFR
 * clip in a millisecond time base alternates 33 and 34 ms). Also the average rate they give.
 */
export function timingFromPackets(pts: number[], timeBase: string): { vfr: boolean; fps: number; rational: string } {
  const [num, den] = timeBase.split('/').map(Number);
  if (pts.length < 3 || !(num > 0 && den > 0)) return { vfr: false, fps: 0, rational: '0/1' };
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 1; i < pts.length; i++) {
    const step = pts[i] - pts[i - 1];
    min = Math.min(min, step);
    max = Math.max(max, step);
  }
  const span = pts[pts.length - 1] - pts[0];
  const frames = (pts.length - 1) * den;
  const ticks = span * num;
  return { vfr: max - min > 1, fps: span > 0 ? frames / ticks : 0, rational: `${frames}/${ticks}` };
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
  let fps = avgFps > 0 ? avgFps : rFps;
  let fpsRational = avgFps > 0 ? (v.avg_frame_rate as string) : (v.r_frame_rate ?? '25/1');
  let vfr = rFps > 0 && avgFps > 0 && Math.abs(rFps - avgFps) / rFps > 0.01;
  const durationS = numOr(v.duration, numOr(format.duration, 0));
  let frames = Number(v.nb_frames) || 0;
  if (!frames) {
    // No frame count in the header (Matroska, MPEG-TS, Ogg): one demux pass (no decode) gives the exact count and
    // the frames' times, which tell VFR better than the rates these demuxers guess (a VFR .ts said 450 fps).
    const { count, pts } = await packetTimes(ffprobe, path, v.index);
    frames = count;
    const measured = timingFromPackets(pts, v.time_base ?? '');
    if (measured.vfr && measured.fps > 0) {
      vfr = true;
      fps = measured.fps;
      fpsRational = measured.rational;
    }
  }
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
    videoTimeBase: /^\d+\/\d+$/.test(v.time_base ?? '') ? (v.time_base as string) : '1/90000',
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
  const { videoStreamIndex: _i, videoTimeBase: _t, audio: _a, subtitles: _s, ...pub } = info;
  return pub;
}
