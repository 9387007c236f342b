/**
 * Recording (blankend's `record/start` / `record/stop`): a source's frames, as received or as processed by the AI
 * core, written to a video file by one ffmpeg per recording (MJPEG in on stdin, H.264 out, timestamps from arrival
 * via ffmpeg's wall clock). The file is fragmented MP4, so even a hub that dies mid-recording leaves a playable
 * file; `stop` (and hub shutdown) ends ffmpeg's input and waits for it to finish the file. A decoder restart on the
 * source does not stop the recording: the source's name stays the same.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { RecordingStatus, RecordKind } from '../protocol/hub-status';

export type { RecordingStatus, RecordKind };

/** Input waiting for ffmpeg beyond this is dropped frame by frame (a slow encoder must not grow memory). */
const MAX_PENDING_BYTES = 32 * 1024 * 1024;

type Proc = ChildProcessByStdio<Writable, null, Readable>;

function recorderArgs(path: string, width: number, height: number): string[] {
  const w = Math.max(2, width - (width % 2));
  const h = Math.max(2, height - (height % 2));
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'],
    ...['-use_wallclock_as_timestamps', '1', '-f', 'mjpeg', '-i', 'pipe:0'],
    // One size for the whole file: a source whose picture size changes is scaled to its first frame's.
    ...['-vf', `scale=${w}:${h},format=yuv420p`, '-fps_mode', 'passthrough', '-enc_time_base', '1/1000000'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18'],
    ...['-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4', path],
  ];
}

export class StreamRecorder {
  private proc: Proc | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stderrTail = '';
  private stopping = false;
  readonly status: RecordingStatus;

  constructor(
    source: string,
    kind: RecordKind,
    path: string,
    private readonly ffmpeg: string,
    private readonly dimensions: (jpeg: Buffer) => { width: number; height: number } | undefined,
  ) {
    this.status = { source, kind, path, frames: 0, dropped: 0, startedAt: Date.now(), error: null };
  }

  /** Writes one JPEG; ffmpeg starts with the first frame (its size fixes the file's). */
  write(jpeg: Buffer): void {
    if (this.stopping || this.status.error) return;
    if (!this.proc) {
      const size = this.dimensions(jpeg);
      if (!size) return;
      this.launch(size.width, size.height);
    }
    const stdin = this.proc?.stdin;
    if (!stdin || stdin.writableLength > MAX_PENDING_BYTES) {
      this.status.dropped++;
      return;
    }
    stdin.write(jpeg);
    this.status.frames++;
  }

  private launch(width: number, height: number): void {
    const proc = spawn(this.ffmpeg, recorderArgs(this.status.path, width, height), {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    this.proc = proc;
    proc.stdin.on('error', () => undefined); // EPIPE if ffmpeg died: the exit handler says why
    proc.stderr.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-2000);
    });
    this.exited = new Promise<void>((resolve) => {
      proc.on('error', (err) => {
        this.status.error = `cannot start ${this.ffmpeg}: ${err.message}`;
        resolve();
      });
      proc.on('close', (code, signal) => {
        if (code !== 0 && !this.status.error) {
          const said = this.stderrTail.trim().split('\n').slice(-2).join(' | ');
          this.status.error = `ffmpeg ${signal ? `killed by ${signal}` : `exited with ${code}`}${said ? `: ${said}` : ''}`;
        }
        this.proc = null;
        resolve();
      });
    });
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  /** Ends the input and waits for ffmpeg to finish the file (kills it after `graceMs`). */
  async stop(graceMs = 20_000): Promise<RecordingStatus> {
    this.stopping = true;
    const proc = this.proc;
    if (proc) {
      proc.stdin.end();
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.status;
  }
}

/** A file name for a recording of `source` in `dir` (the source's name made safe, plus the time). */
export function recordingPath(dir: string, source: string, kind: RecordKind, now = new Date()): string {
  mkdirSync(dir, { recursive: true });
  const safe = source.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 64) || 'source';
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return join(dir, `${safe}-${kind}-${stamp}.mp4`);
}
