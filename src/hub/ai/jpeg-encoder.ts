/**
 * A long-lived JPEG encoder for one stream of equal-sized RGB24 frames: one ffmpeg (rawvideo in, MJPEG out, every
 * packet flushed at once), so a live source does not pay an ffmpeg start per frame. Frames come back in the order
 * they went in; each output is split from the MJPEG stream by the hub's JPEG splitter.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { FFMPEG_QUIET } from '../../engine/ffmpeg/ffmpeg-tools';
import type { Size } from '../../engine/pipeline/target-size';
import { JpegStreamSplitter } from '../jpeg';

type Proc = ChildProcessByStdio<Writable, Readable, Readable>;

/** ffmpeg arguments: `input`-sized rgb24 frames in, `output`-sized JPEGs (4:4:4, -q:v `quality`) out. */
export function jpegEncoderArgs(input: Size, output: Size, quality: number, frames?: number): string[] {
  const resize = output.width !== input.width || output.height !== input.height;
  return [
    ...FFMPEG_QUIET,
    ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${input.width}x${input.height}`, '-i', 'pipe:0'],
    ...(resize ? ['-vf', `scale=${output.width}:${output.height}:flags=lanczos`] : []),
    ...(frames ? ['-frames:v', String(frames)] : []),
    ...['-pix_fmt', 'yuvj444p', '-qmin', '1', '-q:v', String(quality), '-threads', '1'],
    ...['-flush_packets', '1', '-f', 'mjpeg', 'pipe:1'],
  ];
}

export class JpegEncoderStream {
  private readonly proc: Proc;
  private readonly pending: { resolve: (jpeg: Buffer) => void; reject: (err: Error) => void }[] = [];
  private readonly exited: Promise<void>;
  private stderrTail = '';
  private dead: Error | null = null;

  constructor(
    ffmpeg: string,
    private readonly input: Size,
    output: Size,
    quality: number,
    maxFrameBytes: number,
  ) {
    this.proc = spawn(ffmpeg, jpegEncoderArgs(input, output, quality), { stdio: ['pipe', 'pipe', 'pipe'] });
    const splitter = new JpegStreamSplitter(maxFrameBytes);
    this.proc.stdout.on('data', (chunk: Buffer) => {
      for (const jpeg of splitter.push(chunk)) this.pending.shift()?.resolve(jpeg);
    });
    this.proc.stderr.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-2000);
    });
    this.proc.stdin.on('error', () => undefined); // EPIPE when ffmpeg died: the exit handler says why
    this.exited = new Promise((resolve) => {
      const fail = (why: string) => {
        this.dead ??= new Error(why);
        for (const p of this.pending.splice(0)) p.reject(this.dead);
        resolve();
      };
      this.proc.on('error', (err) => fail(`cannot start ${ffmpeg}: ${err.message}`));
      this.proc.on('close', (code, signal) => {
        const said = this.stderrTail.trim().split('\n').slice(-2).join(' | ');
        fail(`JPEG encoder ffmpeg ended (${signal ?? code})${said ? `: ${said}` : ''}`);
      });
    });
  }

  /** True once ffmpeg has gone: make a new encoder. */
  get failed(): boolean {
    return this.dead !== null;
  }

  encode(rgb: Uint8Array): Promise<Buffer> {
    const want = this.input.width * this.input.height * 3;
    if (rgb.byteLength !== want) {
      return Promise.reject(
        new RangeError(`${rgb.byteLength} bytes is not ${this.input.width}x${this.input.height} rgb24`),
      );
    }
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.proc.stdin.write(rgb);
    });
  }

  /** Kills and reaps ffmpeg; frames still in it are rejected. */
  async close(): Promise<void> {
    this.dead ??= new Error('JPEG encoder closed');
    this.proc.stdin.destroy();
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}
