import { ExitCode } from '../../protocol/engine-events';
import { type StartedTool, startTool } from '../children';
import { EngineError, stderrTail } from '../errors';
import type { Size } from '../pipeline/target-size';
import { sourceColorMatrix, sourceRange } from './colour';
import { FFMPEG_QUIET } from './ffmpeg-tools';
import { FrameTimes } from './frame-times';
import type { MediaInfo } from './probe';

export interface DecoderOptions {
  ffmpeg: string;
  info: MediaInfo;
  /** First frame to deliver, frame-exact (0-based, in decode order of the output). */
  startFrame?: number;
  /** Deliver at most this many frames. */
  maxFrames?: number;
  /** Resize to this (lanczos) instead of delivering the stored size (a same-size pass, size-plan.ts). */
  size?: Size;
  /** Also report every frame's source timestamp (`FrameDecoder.times`, frame-times.ts): kept per frame on VFR. */
  timestamps?: boolean;
}

/** A decoded frame: packed RGB24, `width*height*3` bytes, owned by the receiver. */
export interface DecodedFrame {
  index: number;
  data: Buffer;
}

const HYBRID_SEEK_MARGIN_S = 5;

/** See the FrameDecoder constructor: a listener that only marks stdout as being read. */
const keepBuffered = (): void => {};

/**
 * ffmpeg arguments for rgb24 frames on stdout. Autorotate stays on (frames arrive upright); colour matrix and range
 * come from the tags (rule in colour.ts); `-fps_mode passthrough` keeps VFR sources at their frame count.
 * A start frame uses hybrid seek on CFR sources (fast input seek to 5 s before, exact output seek after) and
 * `trim=start_frame` on VFR ones, never a plain keyframe seek.
 */
export function decoderArgs(opts: DecoderOptions): string[] {
  const { info } = opts;
  const start = opts.startFrame ?? 0;
  const pre: string[] = [];
  const post: string[] = [];
  const trim: string[] = [];
  if (start > 0 && !info.vfr && info.fps > 0) {
    const t = (start - 0.5) / info.fps;
    const coarse = Math.max(0, t - HYBRID_SEEK_MARGIN_S);
    if (coarse > 0) pre.push('-ss', coarse.toFixed(6));
    post.push('-ss', (t - coarse).toFixed(6));
  } else if (start > 0) {
    // No setpts after it: the frames keep their source timestamps (the side channel reports them).
    trim.push(`trim=start_frame=${start}`);
  }
  const size = opts.size ?? info;
  const kernel = opts.size ? 'lanczos' : 'bicubic';
  // A stream that changes size midway (clips joined with cat) keeps each part's aspect: scaled to fit the first part's
  // frame and centred on black, never squeezed. The first part (the probed size) passes through both unchanged.
  const fit = opts.size ? '' : ':force_original_aspect_ratio=decrease';
  const pad = opts.size ? [] : [`pad=${size.width}:${size.height}:(ow-iw)/2:(oh-ih)/2:black`];
  const filters = [
    ...trim,
    // w/h: the size probed (or the same-size plan's), whatever the codec delivers (a stream may change size midway).
    `scale=w=${size.width}:h=${size.height}${fit}:in_color_matrix=${sourceColorMatrix(info)}:in_range=${sourceRange(info)}:flags=${kernel}+accurate_rnd+full_chroma_int`,
    'format=rgb24',
    ...pad,
  ];
  const frames = opts.maxFrames !== undefined ? ['-frames:v', String(opts.maxFrames)] : [];
  return [
    ...FFMPEG_QUIET,
    ...pre,
    // Crop exactly where the codec says the picture is. Without it the decoder leaves an unaligned left crop undone:
    // a Theora film with its 214×160 picture at x=4 of a 224-wide frame came out 218 wide, padding included.
    '-flags',
    'unaligned',
    '-i',
    info.path,
    '-map',
    `0:${info.videoStreamIndex}`,
    ...post,
    '-vf',
    filters.join(','),
    '-fps_mode',
    'passthrough',
    ...frames,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
    ...(opts.timestamps ? timestampArgs(info, post, trim, frames) : []),
  ];
}

/**
 * A second output of the same decode: one framecrc line per frame on fd 3 with its timestamp in the source's
 * time base. `wrapped_avframe` only references the decoded frame, so this costs no pixel copy.
 */
function timestampArgs(info: MediaInfo, post: string[], trim: string[], frames: string[]): string[] {
  return [
    '-map',
    `0:${info.videoStreamIndex}`,
    ...post,
    ...(trim.length ? ['-vf', trim.join(',')] : []),
    '-fps_mode',
    'passthrough',
    '-enc_time_base',
    '-1',
    ...frames,
    '-c:v',
    'wrapped_avframe',
    '-f',
    'framecrc',
    'pipe:3',
  ];
}

/**
 * Streams frames out of ffmpeg. Pulling is the backpressure: while the consumer does not ask for the next frame,
 * the pipe fills and ffmpeg blocks. Every frame is checked for its exact byte count; a truncated tail or a non-zero
 * exit is an error, never a silently shorter video.
 */
export class FrameDecoder {
  readonly frameBytes: number;
  /** Each frame's source timestamp, when asked for (`timestamps`). */
  readonly times: FrameTimes | undefined;
  private killed = false;
  private readonly tool: StartedTool;
  private readonly child: StartedTool['child'];

  constructor(private readonly opts: DecoderOptions) {
    const size = opts.size ?? opts.info;
    this.frameBytes = size.width * size.height * 3;
    const stdio: Array<'ignore' | 'pipe'> = ['ignore', 'pipe', 'pipe', ...(opts.timestamps ? ['pipe' as const] : [])];
    this.tool = startTool(opts.ffmpeg, decoderArgs(opts), stdio);
    this.child = this.tool.child;
    this.times = opts.timestamps ? this.readTimes() : undefined;
    // Node resumes a child's stdout that has no 'readable'/'data' listener as soon as the child exits
    // (child_process flushStdio), and the frames it held are dropped unread. A short clip fits in the pipe plus the
    // socket buffer, so ffmpeg can finish before the first pull (the pipeline awaits other work first; on a loaded
    // machine that is long enough) and the run saw zero frames from a valid file. A 'readable' listener from the
    // start keeps the stream paused — resume() has no effect then — so the data waits for frames(); it does not
    // read anything, so the pipe's backpressure on ffmpeg is unchanged.
    this.child.stdout?.on('readable', keepBuffered);
  }

  private readTimes(): FrameTimes {
    const times = new FrameTimes(this.opts.startFrame ?? 0);
    const fd3 = this.child.stdio[3] as NodeJS.ReadableStream | null;
    fd3?.setEncoding('utf8');
    fd3?.on('data', (d: string) => times.push(d));
    fd3?.on('error', () => {});
    this.child.once('close', () => times.end());
    return times;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** What ffmpeg printed at `-loglevel error` so far (decode errors on a damaged file, even when it exits 0). */
  get errorOutput(): string {
    return this.tool.stderr();
  }

  kill(): void {
    this.killed = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  async *frames(): AsyncGenerator<DecodedFrame> {
    const size = this.frameBytes;
    const stdout = this.child.stdout;
    if (!stdout) throw new Error('decoder has no stdout');
    let index = this.opts.startFrame ?? 0;
    let frame = Buffer.allocUnsafe(size);
    let filled = 0;
    try {
      for await (const chunk of stdout as AsyncIterable<Buffer>) {
        let off = 0;
        while (off < chunk.length) {
          const n = Math.min(size - filled, chunk.length - off);
          chunk.copy(frame, filled, off, off + n);
          filled += n;
          off += n;
          if (filled === size) {
            yield { index: index++, data: frame };
            frame = Buffer.allocUnsafe(size);
            filled = 0;
          }
        }
      }
      const { code, signal, error } = await this.tool.exited;
      if (error) throw error;
      if (this.killed) return;
      if (signal) {
        throw new EngineError(
          ExitCode.failure,
          'decoder-killed',
          `the decoder ffmpeg was killed (${signal}) after frame ${index - 1} of ${this.opts.info.path}`,
          'something outside huaju4k stopped it (out of memory?); finished segments are kept, resume with --resume',
        );
      }
      if (code !== 0) {
        throw new EngineError(
          ExitCode.badInput,
          'decode-failed',
          `ffmpeg could not decode ${this.opts.info.path} (exit ${code ?? signal}): ${stderrTail(this.errorOutput)}`,
          'the file may be damaged or truncated; try playing it, or re-mux it with ffmpeg -i in -c copy out.mkv',
        );
      }
      if (filled !== 0) {
        throw new EngineError(
          ExitCode.failure,
          'partial-frame',
          `decoder delivered a partial frame (${filled} of ${size} bytes) after frame ${index}`,
          'its frames are not the size ffprobe reported; re-encoding the file (ffmpeg -i in -c:v libx264 -crf 16 out.mp4) should make it readable; please report this with the output of ffprobe -show_streams',
        );
      }
    } finally {
      this.kill();
    }
  }
}
