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

export interface DecoderOptions {
  id: string;
  codec: StreamCodec;
  /** 'auto': CUDA when available; 'cuda': force a CUDA attempt (falls back); 'cpu': never try CUDA. */
  hwaccel: 'auto' | 'cuda' | 'cpu';
  mjpegQuality: number;
  maxFrameBytes: number;
  ffmpegPath?: string;
  onFrame: (jpeg: Buffer) => void;
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

export function decoderArgs(codec: StreamCodec, mode: DecoderMode, quality: number): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
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

export class StreamDecoder {
  mode: DecoderMode;
  inBytes = 0;
  frames = 0;
  readonly startedAt = Date.now();
  private proc: Proc | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  private replay: Buffer[] | null = [];
  private replayBytes = 0;
  private stderrTail = '';
  private ending = false;
  private killed = false;
  /** Last error message ffmpeg printed, for the client and the log. */
  lastError = '';

  constructor(private readonly opts: DecoderOptions) {
    const wantCuda = opts.hwaccel === 'cuda' || (opts.hwaccel === 'auto' && cudaDecodeAvailable(opts.ffmpegPath));
    this.mode = wantCuda ? 'cuda' : 'cpu';
    this.launch();
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  private launch(): void {
    const ffmpeg = this.opts.ffmpegPath ?? 'ffmpeg';
    const proc = spawn(ffmpeg, decoderArgs(this.opts.codec, this.mode, this.opts.mjpegQuality), {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc = proc;
    const splitter = new JpegStreamSplitter(this.opts.maxFrameBytes);
    proc.stdout.on('data', (chunk: Buffer) => {
      for (const frame of splitter.push(chunk)) {
        this.frames++;
        this.replay = null; // the decoder works: no fallback will be needed
        this.opts.onFrame(frame);
      }
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    proc.stdin.on('error', () => undefined); // EPIPE when ffmpeg dies first: the exit handler reports it
    this.exited = new Promise((resolve) => {
      proc.on('error', (err) => {
        this.lastError = `cannot start ${ffmpeg}: ${err.message} (install ffmpeg or put it on PATH)`;
        resolve(null);
      });
      proc.on('close', (code) => resolve(code));
    }).then((code) => this.onExit(proc, code as number | null));
  }

  private onExit(proc: Proc, code: number | null): number | null {
    if (this.proc !== proc) return code;
    if (code !== 0 && !this.killed) {
      this.lastError ||= this.stderrTail.trim().split('\n').slice(-3).join(' | ') || `ffmpeg exited with ${code}`;
    }
    if (this.mode === 'cuda' && this.frames === 0 && !this.killed && code !== 0) {
      this.mode = 'cpu';
      this.lastError = '';
      this.stderrTail = '';
      const replay = this.replay ?? [];
      this.launch();
      for (const chunk of replay) this.proc?.stdin.write(chunk);
      if (this.ending) this.proc?.stdin.end();
      return code;
    }
    this.proc = null;
    return code;
  }

  /** Feeds encoded bytes; returns false when ffmpeg's stdin is backed up (the caller should pause its source). */
  feed(chunk: Buffer): boolean {
    this.inBytes += chunk.length;
    if (this.replay) {
      this.replayBytes += chunk.length;
      if (this.replayBytes <= REPLAY_CAP_BYTES) this.replay.push(chunk);
      else this.replay = null;
    }
    if (!this.proc || this.ending) return true;
    return this.proc.stdin.write(chunk);
  }

  onDrain(cb: () => void): void {
    this.proc?.stdin.once('drain', cb);
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
      startedAt: this.startedAt,
    };
  }
}
