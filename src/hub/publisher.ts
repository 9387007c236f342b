/**
 * Publishes JPEG frames to a hub's `/video_in` (ours or blankend's): a JSON header text then the JPEG binary per
 * frame. Never blocks the caller: frames wait in a bounded queue that drops the oldest when the hub is slow or
 * away, and the socket reconnects with backoff. For `huaju4k enhance --publish ws://host:port/video_in`.
 */
import type { FrameHeader } from '../protocol/hub-status';
import type { BackoffOptions } from './backoff';
import { isCompleteJpeg } from './jpeg';
import { ReconnectingSocket } from './reconnecting-ws';

export interface HubPublisherOptions {
  /** ws://host:port/video_in; `subscribe=0` is added so the hub does not echo frames back. */
  url: string;
  token?: string | null;
  source?: string;
  kind?: FrameHeader['kind'];
  /** Frames held while the socket is busy or down (default 4). */
  queueSize?: number;
  /** Bytes the socket may hold unsent before frames wait in the queue instead (default 2 MiB). */
  maxBufferedBytes?: number;
  backoff?: BackoffOptions;
}

export interface PublisherStats {
  connected: boolean;
  sent: number;
  dropped: number;
  queued: number;
  rejected: number;
  connects: number;
  lastError: string;
}

function withSubscribeOff(url: string): string {
  const u = new URL(url);
  if (!u.searchParams.has('subscribe')) u.searchParams.set('subscribe', '0');
  return u.toString();
}

export class HubPublisher {
  private readonly socket: ReconnectingSocket;
  private readonly queue: { header: string; jpeg: Buffer }[] = [];
  private seq = 0;
  private sent = 0;
  private dropped = 0;
  private rejected = 0;
  private readonly queueSize: number;
  private readonly maxBuffered: number;
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: HubPublisherOptions) {
    this.queueSize = opts.queueSize ?? 4;
    this.maxBuffered = opts.maxBufferedBytes ?? 2 * 1024 * 1024;
    this.socket = new ReconnectingSocket({
      url: withSubscribeOff(opts.url),
      token: opts.token,
      backoff: opts.backoff,
      onOpen: () => this.flush(),
    });
  }

  /**
   * Queues one JPEG; returns false (and counts it) when it is not a complete JPEG. The header's seq and ts default
   * to a per-publisher counter and now.
   */
  publish(jpeg: Buffer, header: FrameHeader = {}): boolean {
    if (!isCompleteJpeg(jpeg)) {
      this.rejected++;
      return false;
    }
    const full: FrameHeader = {
      source: this.opts.source ?? 'huaju4k',
      kind: this.opts.kind ?? 'processed',
      seq: ++this.seq,
      ts: Date.now(),
      ...header,
    };
    if (this.queue.length >= this.queueSize) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push({ header: JSON.stringify(full), jpeg });
    this.flush();
    return true;
  }

  private flush(): void {
    const ws = this.socket.ws;
    if (!ws || !this.socket.isOpen) return;
    while (this.queue.length > 0 && ws.bufferedAmount < this.maxBuffered) {
      const item = this.queue.shift()!;
      ws.send(item.header);
      ws.send(item.jpeg, { binary: true });
      this.sent++;
    }
    // ws has no 'drain' event: look again shortly while frames wait behind a full socket buffer.
    if (this.queue.length > 0 && !this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.flush();
      }, 5);
    }
  }

  stats(): PublisherStats {
    return {
      connected: this.socket.isOpen,
      sent: this.sent,
      dropped: this.dropped,
      queued: this.queue.length,
      rejected: this.rejected,
      connects: this.socket.connects,
      lastError: this.socket.lastError,
    };
  }

  /** Waits, at most `ms`, until every queued frame has been sent (e.g. the last previews before a run ends). */
  async drain(ms = 1000): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const ws = this.socket.ws;
      if (this.queue.length === 0 && (!ws || ws.bufferedAmount === 0)) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async close(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.queue.length = 0;
    await this.socket.close();
  }
}
