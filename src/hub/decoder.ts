/**
 * One ffmpeg per `/video_codec` connection: an h264/hevc elementary stream in on stdin, MJPEG out on stdout, split
 * into JPEG frames. CUDA decoding is tried only when ffmpeg lists it and an NVIDIA device node exists; if that
 * process fails before its first frame, the decoder restarts on the CPU and replays what it had been fed.
 */
import { type ChildProcessByStdio, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { CodecSessionStatus, DecoderMode } from '../protocol/hub-status';
import { JpegStreamSplitter } from './jpeg';

export type StreamCodec = 'h264' | 'hevc';

/** Names a client may give in `?codec=` (blankend clients say h265), lower case. */
const CODEC_NAMES: Readonly<Record<string, StreamCodec>> = {
  h264: 'h264',
  'h.264': 'h264',
  avc: 'h264',
  hevc: 'hevc',
  h265: 'hevc',
  'h.265': 'hevc',
};

export const CODEC_NAME_LIST = Object.keys(CODEC_NAMES).join(', ');

/** The decoder for a `?codec=` value, or undefined when we do not decode it. */
export function parseCodec(name: string): StreamCodec | undefined {
  return Object.hasOwn(CODEC_NAMES, name.toLowerCase()) ? CODEC_NAMES[name.toLowerCase()] : undefined;
}

export interface DecoderOptions {
  id: string;
  codec: StreamCodec;
  /** 'auto': CUDA when available; 'cuda': force a CUDA attempt (falls back); 'cpu': never try CUDA. */
  hwaccel: 'auto' | 'cuda' | 'cpu';
  mjpegQuality: number;
  /** Read the input at its own frame rate (ffmpeg -re) so frames leave at source timing, not decode speed. */
  paced: boolean;
  maxFrameBytes: number;
  ffmpegPath?: string;
  onFrame: (jpeg: Buffer) => void;
  /** ffmpeg died on its own (not killed by us, not after end()): the reason, for the client. */
  onDeath?: (reason: string) => void;
}

/** Input kept for a replay after a failed CUDA start; beyond this the fallback starts from the next keyframe. */
const REPLAY_CAP_BYTES = 16 * 1024 * 1024;

let cudaProbe: boolean | undefined;

/** Whether ffmpeg on this machine lists the CUDA hwaccel and an NVIDIA device is present (probed once). */
export function cudaDecodeAvailable(ffmpegPath = 'ffmpeg'): boolean {
  if (cudaProbe !== undefined) return cudaProbe;
  try {
    const out = execFileSync(ffmpegPath, ['-hide_banner', '-hwaccels'], { encoding: 'utf8', timeout: 10_000 });
    cudaProbe = /^cuda$/m.test(out) && existsSync('/dev/nvidiactl');
  } catch {
    cudaProbe = false;
  }
  return cudaProbe;
}

export function decoderArgs(codec: StreamCodec, mode: DecoderMode, quality: number, paced = false): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    ...(paced ? ['-re'] : []),
    ...(mode === 'cuda' ? ['-hwaccel', 'cuda'] : []),
    '-probesize',
    '32',
    '-analyzeduration',
    '0',
    '-f',
    codec,
    '-i',
    'pipe:0',
    '-fps_mode',
    'passthrough',
    '-f',
    'mjpeg',
    '-q:v',
    String(quality),
    'pipe:1',
  ];
}

type Proc = ChildProcessByStdio<Writable, Readable, Readable>;

/** How an ffmpeg process ended, in words a client can act on. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null, stderrTail: string): string {
  const how = signal ? `ffmpeg was killed by ${signal}` : `ffmpeg exited with code ${code}`;
  const said = stderrTail.trim().split('\n').slice(-3).join(' | ');
  return said ? `${how}: ${said}` : how;
}

export class StreamDecoder {
  mode: DecoderMode;
  inBytes = 0;
  frames = 0;
  readonly startedAt = Date.now();
  private proc: Proc | null = null;
  private exited: Promise<void> = Promise.resolve();
  /** Input kept for a CPU replay; null once no fallback can happen (CPU mode, a first frame, or over the cap). */
  private replay: Buffer[] | null;
  private replayBytes = 0;
  private stderrTail = '';
  private ending = false;
  private killed = false;
  /** Callbacks waiting for ffmpeg's stdin to drain (or for ffmpeg to exit); one 'drain' listener serves them all. */
  private writableWaiters: (() => void)[] = [];
  /** Last error message ffmpeg printed, for the client and the log. */
  lastError = '';

  constructor(private readonly opts: DecoderOptions) {
    const wantCuda = opts.hwaccel === 'cuda' || (opts.hwaccel === 'auto' && cudaDecodeAvailable(opts.ffmpegPath));
    this.mode = wantCuda ? 'cuda' : 'cpu';
    this.replay = this.mode === 'cuda' ? [] : null;
    this.launch();
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  /** True while fed input waits for ffmpeg to read it (the caller has paused its source). */
  get backpressured(): boolean {
    return this.writableWaiters.length > 0;
  }

  private launch(): void {
    const ffmpeg = this.opts.ffmpegPath ?? 'ffmpeg';
    const proc = spawn(ffmpeg, decoderArgs(this.opts.codec, this.mode, this.opts.mjpegQuality, this.opts.paced), {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc = proc;
    const splitter = new JpegStreamSplitter(this.opts.maxFrameBytes);
    proc.stdout.on('data', (chunk: Buffer) => {
      for (const frame of splitter.push(chunk)) {
        this.frames++;
        this.dropReplay(); // the decoder works: no fallback will be needed
        this.opts.onFrame(frame);
      }
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    proc.stdin.on('error', () => undefined); // EPIPE when ffmpeg dies first: the exit handler reports it
    proc.stdin.on('drain', () => this.releaseWriters());
    this.exited = new Promise<void>((resolve) => {
      proc.on('error', (err) => {
        this.lastError = `cannot start ${ffmpeg}: ${err.message} (install ffmpeg or put it on PATH)`;
        this.onExit(proc, null, null);
        resolve();
      });
      proc.on('close', (code, signal) => {
        this.onExit(proc, code, signal);
        resolve();
      });
    });
  }

  private dropReplay(): void {
    this.replay = null;
    this.replayBytes = 0;
  }

  private releaseWriters(): void {
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w();
  }

  private onExit(proc: Proc, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.proc !== proc) return;
    const failed = code !== 0 && !this.killed;
    if (failed) this.lastError ||= describeExit(code, signal, this.stderrTail);
    if (this.mode === 'cuda' && this.frames === 0 && failed) {
      this.mode = 'cpu';
      this.lastError = '';
      this.stderrTail = '';
      const replay = this.replay ?? [];
      this.dropReplay();
      this.launch();
      for (const chunk of replay) this.proc?.stdin.write(chunk);
      if (this.ending) this.proc?.stdin.end();
      return;
    }
    this.proc = null;
    this.dropReplay();
    this.releaseWriters(); // no drain will come from a dead process: let the caller resume (and see the error)
    if (failed && !this.ending) this.opts.onDeath?.(this.lastError);
  }

  /** Feeds encoded bytes; returns false when ffmpeg's stdin is backed up (wait with whenWritable). */
  feed(chunk: Buffer): boolean {
    this.inBytes += chunk.length;
    if (this.replay) {
      this.replayBytes += chunk.length;
      if (this.replayBytes <= REPLAY_CAP_BYTES) this.replay.push(chunk);
      else this.dropReplay();
    }
    if (!this.proc || this.ending) return true;
    return this.proc.stdin.write(chunk);
  }

  /** Calls `cb` once when ffmpeg can take more input, or at once when it has exited. */
  whenWritable(cb: () => void): void {
    const stdin = this.proc?.stdin;
    if (!stdin?.writableNeedDrain) {
      cb();
      return;
    }
    this.writableWaiters.push(cb);
  }

  /** Ends the input and waits until ffmpeg has flushed every frame and exited (also across a CPU fallback). */
  async end(): Promise<void> {
    this.ending = true;
    this.proc?.stdin.end();
    for (;;) {
      const proc = this.proc;
      if (!proc) return;
      await this.exited;
      if (this.proc === proc || this.proc === null) return;
    }
  }

  /** Kills and reaps ffmpeg. Safe to call more than once. */
  async kill(): Promise<void> {
    this.killed = true;
    const proc = this.proc;
    if (!proc) return;
    proc.stdin.destroy();
    proc.kill('SIGKILL');
    await this.exited;
    this.proc = null;
  }

  status(): CodecSessionStatus {
    return {
      id: this.opts.id,
      codec: this.opts.codec,
      mode: this.mode,
      pid: this.pid,
      inBytes: this.inBytes,
      frames: this.frames,
      replayBytes: this.replayBytes,
      backpressured: this.backpressured,
      startedAt: this.startedAt,
    };
  }
}
