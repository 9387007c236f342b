/**
 * One `/video_codec` connection: feeds the socket's binary messages to a StreamDecoder with backpressure (the
 * socket is paused until ffmpeg drains, with one waiter however many messages were already buffered), answers the
 * `end` / `reset` control messages, and reports a decoder that dies on its own to the client at once
 * (`{"type":"error","code":"decoder_exited"}`, then close 1011) instead of leaving the socket paused forever.
 * A stall watchdog ends a session whose decoder neither reads its input nor gives a frame for `stallMs` while the
 * socket waits on it (a hung ffmpeg): the client is told (`decoder_stalled`), ffmpeg is killed and reaped.
 */
import type { RawData, WebSocket } from 'ws';
import type { CodecSessionStatus } from '../protocol/hub-status';
import { type DecoderOptions, StreamDecoder } from './decoder';
import { rawToBuffer } from './raw-data';

export interface CodecSessionOptions extends Omit<DecoderOptions, 'onFrame' | 'onDeath'> {
  /** A decoded frame with its per-session sequence number (from 1). */
  onFrame: (jpeg: Buffer, seq: number) => void;
  /** A control message we do not understand (counted as rejected by the hub). */
  onBadControl: () => void;
  /** The session is over (socket closed, or the decoder died): the hub forgets it. */
  onGone: () => void;
  log: (line: string) => void;
  /** No input read and no frame out for this long while the socket waits on ffmpeg: the session ends. */
  stallMs: number;
}

/** WebSocket close code for "the server hit an unexpected condition". */
const CLOSE_INTERNAL_ERROR = 1011;

function controlType(raw: RawData): unknown {
  try {
    const msg: unknown = JSON.parse(raw.toString());
    return typeof msg === 'object' && msg !== null ? (msg as { type?: unknown }).type : undefined;
  } catch {
    return undefined;
  }
}

export class CodecSession {
  private decoder: StreamDecoder;
  private seq = 0;
  private waitingForDrain = false;
  private gone = false;
  private lastProgressAt = Date.now();
  private stallTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: CodecSessionOptions,
  ) {
    this.decoder = this.startDecoder();
    this.send({ type: 'started', codec: opts.codec, mode: this.decoder.mode });
    ws.on('message', (raw, isBinary) => (isBinary ? this.feed(rawToBuffer(raw)) : this.control(raw)));
    ws.on('close', () => void this.close());
  }

  status(): CodecSessionStatus {
    return this.decoder.status();
  }

  /** Kills and reaps the decoder; the hub calls it on shutdown, the socket's close calls it too. */
  async close(): Promise<void> {
    this.forget();
    await this.decoder.kill();
  }

  /** Arms the watchdog while the socket waits for ffmpeg; any drain or frame counts as progress. */
  private watchStall(): void {
    if (this.stallTimer || this.gone) return;
    const check = () => {
      this.stallTimer = null;
      if (this.gone || !this.waitingForDrain) return;
      const idle = Date.now() - this.lastProgressAt;
      if (idle >= this.opts.stallMs) {
        this.endSession('decoder_stalled', `ffmpeg made no progress for ${this.opts.stallMs} ms`, 'decoder stalled');
        return;
      }
      this.stallTimer = setTimeout(check, this.opts.stallMs - idle);
    };
    this.stallTimer = setTimeout(check, this.opts.stallMs);
  }

  private startDecoder(): StreamDecoder {
    const decoder: StreamDecoder = new StreamDecoder({
      ...this.opts,
      onFrame: (jpeg) => {
        this.lastProgressAt = Date.now();
        this.opts.onFrame(jpeg, ++this.seq);
      },
      onDeath: (reason) => this.onDecoderDeath(decoder, reason),
    });
    return decoder;
  }

  private send(msg: Record<string, unknown>): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private feed(chunk: Buffer): void {
    if (this.decoder.feed(chunk) || this.waitingForDrain) return;
    this.waitingForDrain = true;
    this.lastProgressAt = Date.now();
    this.ws.pause();
    this.watchStall();
    this.decoder.whenWritable(() => {
      this.waitingForDrain = false;
      this.lastProgressAt = Date.now();
      this.ws.resume();
    });
  }

  private control(raw: RawData): void {
    const type = controlType(raw);
    if (type === 'end') {
      const d = this.decoder;
      void d
        .end()
        .then(() => this.send({ type: 'ended', frames: d.frames, mode: d.mode, error: d.lastError || undefined }));
    } else if (type === 'reset') {
      void this.decoder.kill(); // resumes a paused socket: a killed decoder releases its drain waiters
      this.decoder = this.startDecoder();
      this.send({ type: 'restarted', mode: this.decoder.mode });
    } else {
      this.opts.onBadControl();
      this.send({
        type: 'error',
        code: 'bad_control',
        message: 'text messages on /video_codec must be {"type":"end"} or {"type":"reset"}',
      });
    }
  }

  private onDecoderDeath(decoder: StreamDecoder, reason: string): void {
    if (decoder !== this.decoder) return;
    this.endSession('decoder_exited', reason, 'decoder exited');
  }

  /** Tells the client why, kills ffmpeg, forgets the session and closes the socket with 1011. */
  private endSession(code: string, reason: string, closeReason: string): void {
    if (this.gone) return;
    this.opts.log(`hub: /video_codec ${this.opts.id} ${closeReason}: ${reason}`);
    this.send({ type: 'error', code, message: `${reason} (reconnect to start a new session)` });
    this.forget();
    void this.decoder.kill();
    this.ws.resume(); // the close handshake needs the client's close frame read
    this.ws.close(CLOSE_INTERNAL_ERROR, closeReason);
  }

  private forget(): void {
    if (this.gone) return;
    this.gone = true;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    this.opts.onGone();
  }
}
