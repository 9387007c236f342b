import { VIDEO_ENCODERS } from '../../protocol/cli-options';
import { ExitCode } from '../../protocol/engine-events';
import { children, type StartedTool, startTool } from '../children';
import { EngineError, isDiskFull, stderrTail } from '../errors';
import type { Size } from '../pipeline/target-size';
import { FFMPEG_QUIET } from './ffmpeg-tools';
import type { MediaInfo } from './probe';
import { MKV_TIMESTAMP_NS, rawMatroskaFramePrefix, rawMatroskaHeader } from './raw-matroska';
import { planStreams, type StreamWarning } from './stream-map';

export { VIDEO_ENCODERS };

export type VideoEncoder = (typeof VIDEO_ENCODERS)[number];

export interface EncoderSettings {
  codec: VideoEncoder;
  crf?: number;
  preset?: string;
  /**
   * Encoder threads (libx264/libx265). Pinned per job (kept in the checkpoint) so every segment, resumed or not, on
   * any machine, is encoded with the same settings: x264's output depends on its thread count.
   */
  threads?: number;
}

export interface EncoderOptions {
  ffmpeg: string;
  /** The file ffmpeg writes (the caller renames it when the run succeeds). */
  output: string;
  /** Size of the frames written to the encoder (the model's output). */
  frameSize: Size;
  /** Final frame size; the encoder resizes with lanczos. */
  target: Size;
  /** The picture inside `target` when smaller (`--fit pad`): resized to this, centred on black. */
  picture?: Size;
  fpsRational: string;
  /**
   * Frames carry their own timestamps, in this time base (`num/den`, the source's): each `write` gives one, the
   * input is raw Matroska (raw-matroska.ts) instead of rawvideo at `fpsRational`, and the codec works in this time
   * base, so a VFR source keeps every frame's time. Omitted: frames are timed at `fpsRational` (CFR).
   */
  timeBase?: string;
  settings: EncoderSettings;
  /** Source whose audio/subtitles/metadata are carried over; omit for video-only (e.g. a segment). */
  source?: MediaInfo;
  /** Trim the output (all streams) to this many video frames. */
  maxFrames?: number;
  /** Shift the video start (container start → first video frame of the source), seconds. */
  videoStartS?: number;
  /** A cancel's first sweep leaves this encoder running so its file can be closed (a checkpoint segment). */
  closesOnCancel?: boolean;
}

export function defaultPreset(codec: VideoEncoder): string {
  // veryfast: at 4K, medium costs the model a third of a 2-core CPU; use --preset medium for smaller files.
  if (codec === 'libx264') return 'veryfast';
  if (codec === 'libx265') return 'fast';
  return 'p5';
}

/**
 * The rate the output is encoded at: the source's own on CFR; on VFR the whole file's average (frames ÷ duration),
 * whatever part of it a run encodes (--max-frames must not change the timing of the frames it keeps).
 */
export function outputFrameRate(info: MediaInfo): { rational: string; fps: number } {
  if (info.vfr && info.durationS > 0 && info.frameCountEstimate > 0) {
    return {
      rational: `${info.frameCountEstimate}/${info.durationS}`,
      fps: info.frameCountEstimate / info.durationS,
    };
  }
  return { rational: info.fpsRational, fps: info.fps };
}

/** `ticks` of `timeBase` (`num/den`) in Matroska timestamp units (MKV_TIMESTAMP_NS), rounded. */
export function ticksToMatroska(ticks: number, timeBase: string): number {
  const [num, den] = timeBase.split('/').map(Number);
  return Math.round((ticks * num * 1e9) / (den * MKV_TIMESTAMP_NS));
}

/** The quality (CRF, or NVENC's CQ) used when none is given. */
export function defaultQuality(codec: VideoEncoder): number {
  if (codec === 'libx265') return 20;
  if (codec === 'libx264') return 18;
  return 19;
}

/** The codec's own arguments (`-c:v` onwards), with the engine's defaults for preset and quality. */
export function codecArgs(s: EncoderSettings): string[] {
  const preset = s.preset ?? defaultPreset(s.codec);
  switch (s.codec) {
    case 'libx264':
      return [
        '-c:v',
        'libx264',
        '-preset',
        preset,
        '-crf',
        String(s.crf ?? defaultQuality(s.codec)),
        // --crf 0 is x264's lossless mode, which only the High 4:4:4 Predictive profile allows (also on 4:2:0).
        '-profile:v',
        s.crf === 0 ? 'high444' : 'high',
        ...(s.threads ? ['-threads', String(s.threads)] : []),
      ];
    case 'libx265':
      return [
        '-c:v',
        'libx265',
        '-preset',
        preset,
        '-crf',
        String(s.crf ?? defaultQuality(s.codec)),
        '-tag:v',
        'hvc1',
        '-x265-params',
        s.threads ? `log-level=error:pools=${s.threads}:frame-threads=${Math.min(4, s.threads)}` : 'log-level=error',
      ];
    case 'h264_nvenc':
    case 'hevc_nvenc':
      return [
        '-c:v',
        s.codec,
        '-preset',
        preset,
        '-rc',
        'vbr',
        '-cq',
        String(s.crf ?? defaultQuality(s.codec)),
        '-b:v',
        '0',
      ];
  }
}

export interface EncoderCommand {
  args: string[];
  warnings: StreamWarning[];
}

const evenHalf = (n: number): number => Math.floor(n / 4) * 2;

/** ffmpeg arguments: rgb24 on stdin → lanczos to target → yuv420p bt709 → codec; source streams as planned. */
export function encoderArgs(o: EncoderOptions): EncoderCommand {
  const plan = o.source ? planStreams(o.source, o.output) : undefined;
  const useSource = !!(o.source && plan?.mapsSource);
  const offset = o.videoStartS && o.videoStartS > 0.0005 ? ['-itsoffset', o.videoStartS.toFixed(6)] : [];
  const { width: w, height: h } = o.picture ?? o.target;
  const resize =
    o.frameSize.width === w && o.frameSize.height === h
      ? `scale=out_color_matrix=bt709:out_range=tv`
      : `scale=${w}:${h}:flags=lanczos+accurate_rnd+full_chroma_int:out_color_matrix=bt709:out_range=tv`;
  // Even offsets: the bars end on chroma sample boundaries once the frame is 4:2:0.
  const { width: fw, height: fh } = o.target;
  const pad = fw === w && fh === h ? '' : `,pad=${fw}:${fh}:${evenHalf(fw - w)}:${evenHalf(fh - h)}:black`;
  const scale = resize + pad;
  const trim: string[] = [];
  if (o.maxFrames !== undefined) {
    const fps = o.fpsRational.split('/').map(Number);
    const seconds = fps.length === 2 && fps[0] > 0 ? (o.maxFrames * fps[1]) / fps[0] : 0;
    trim.push('-frames:v', String(o.maxFrames));
    if (seconds > 0) trim.push('-t', seconds.toFixed(6));
  }
  const container = plan?.container ?? (/\.(mp4|m4v|mov)$/i.test(o.output) ? 'mp4' : 'mkv');
  const input = o.timeBase
    ? ['-f', 'matroska']
    : [
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        '-s',
        `${o.frameSize.width}x${o.frameSize.height}`,
        '-framerate',
        o.fpsRational,
      ];
  const args = [
    ...FFMPEG_QUIET,
    '-y',
    ...offset,
    ...input,
    '-thread_queue_size',
    '2',
    '-i',
    'pipe:0',
    ...(useSource && o.source ? ['-i', o.source.path] : []),
    '-map',
    '0:v:0',
    ...(useSource && plan ? plan.args : []),
    ...(useSource ? ['-map_metadata', '1', '-map_chapters', '1'] : []),
    '-vf',
    `${scale},format=yuv420p`,
    '-fps_mode',
    'passthrough',
    ...(o.timeBase ? ['-enc_time_base', o.timeBase.replace('/', ':')] : []),
    ...codecArgs(o.settings),
    '-colorspace',
    'bt709',
    '-color_primaries',
    'bt709',
    '-color_trc',
    'bt709',
    '-color_range',
    'tv',
    ...trim,
    ...(container === 'mkv' ? [] : ['-movflags', '+faststart']),
    o.output,
  ];
  return { args, warnings: plan?.warnings ?? [] };
}

/** ffmpeg's words for an encoder this machine cannot run (no NVIDIA driver or GPU, an ffmpeg built without it). */
const UNAVAILABLE =
  /Cannot load (libcuda|libnvidia-encode)[^\n]*|No capable devices found|Driver does not support the required nvenc API version[^\n]*|OpenEncodeSessionEx failed[^\n]*|Unknown encoder[^\n]*|Encoder not found/;

/** The environment error (exit 3) for an encoder that cannot load here, naming it and what to use instead. */
function encoderUnavailable(codec: VideoEncoder, stderr: string): EngineError | undefined {
  const found = UNAVAILABLE.exec(stderr);
  if (!found) return undefined;
  const nvenc = codec.endsWith('_nvenc');
  return new EngineError(
    ExitCode.environment,
    'encoder-unavailable',
    `the encoder ${codec} cannot be used here: ${found[0].trim()}`,
    nvenc
      ? 'NVENC needs an NVIDIA GPU with its driver (libcuda); choose --encoder libx264 (or libx265) on this machine'
      : 'this ffmpeg was built without it; choose --encoder libx264, or install an ffmpeg that has it',
  );
}

/**
 * One ffmpeg encoder fed raw frames on stdin. Each write waits for its callback (the buffer is the caller's again
 * after that) raced against the encoder's exit, so a dead encoder surfaces as an error with its stderr instead of
 * an EPIPE or a hang. Open one per output file or per segment.
 */
export class FrameEncoder {
  readonly frameBytes: number;
  readonly warnings: StreamWarning[];
  private readonly tool: StartedTool;
  private readonly child: StartedTool['child'];
  private readonly exit: StartedTool['exited'];
  private written = 0;

  constructor(private readonly opts: EncoderOptions) {
    this.frameBytes = opts.frameSize.width * opts.frameSize.height * 3;
    const cmd = encoderArgs(opts);
    this.warnings = cmd.warnings;
    this.tool = startTool(opts.ffmpeg, cmd.args, ['pipe', 'ignore', 'pipe']);
    this.child = this.tool.child;
    this.exit = this.tool.exited;
    if (opts.closesOnCancel) children.spareOnCancel(this.child);
    this.child.stdin?.on('error', () => {});
    if (opts.timeBase) this.child.stdin?.write(rawMatroskaHeader(opts.frameSize.width, opts.frameSize.height));
  }

  private died(code: number | null, signal: NodeJS.Signals | null, error?: Error): EngineError {
    const stderr = error ? String(error) : this.tool.stderr();
    if (isDiskFull(stderr)) {
      return new EngineError(
        ExitCode.disk,
        'disk-full',
        `disk full while writing ${this.opts.output} after ${this.written} frames`,
        'free some space on that disk or choose another output folder (-o); a higher --crf makes smaller files',
      );
    }
    const unavailable = encoderUnavailable(this.opts.settings.codec, stderr);
    if (unavailable) return unavailable;
    return new EngineError(
      ExitCode.failure,
      'encoder-failed',
      `encoder ffmpeg exited (${code ?? signal}) after ${this.written} frames writing ${this.opts.output}: ${stderrTail(stderr) || 'no message'}`,
      'check free disk space and the encoder settings (--encoder/--preset/--crf)',
    );
  }

  /** Writes one frame; `pts` (in `timeBase` units) is required when the encoder was opened with a `timeBase`. */
  async write(frame: Buffer, pts?: number): Promise<void> {
    if (frame.length !== this.frameBytes) {
      throw new Error(`frame of ${frame.length} bytes, encoder expects ${this.frameBytes}`);
    }
    const stdin = this.child.stdin;
    if (!stdin || stdin.destroyed) {
      const { code, signal, error } = await this.exit;
      throw this.died(code, signal, error);
    }
    if (this.opts.timeBase) {
      if (pts === undefined) throw new Error('this encoder takes a timestamp with every frame');
      stdin.write(rawMatroskaFramePrefix(ticksToMatroska(pts, this.opts.timeBase), frame.length));
    }
    const written = new Promise<'ok' | Error>((resolve) => stdin.write(frame, (err) => resolve(err ?? 'ok')));
    const result = await Promise.race([written, this.exit]);
    if (result === 'ok') {
      this.written++;
      return;
    }
    const { code, signal, error } = await this.exit;
    throw this.died(code, signal, error);
  }

  /** Closes stdin and waits for ffmpeg to finish the file (including faststart). */
  async finish(): Promise<void> {
    this.child.stdin?.end();
    const { code, signal, error } = await this.exit;
    if (code !== 0) throw this.died(code, signal, error);
  }

  /** Resolves when the ffmpeg process has exited (for any reason). */
  async exited(): Promise<void> {
    await this.exit;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
