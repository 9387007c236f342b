/**
 * One broadcast subscriber. Frames are written while less than `maxInFlightBytes` of earlier writes are still
 * waiting to reach the kernel (one frame may always be in flight); the rest wait in a bounded queue that drops its
 * OLDEST frame when full. A slow reader therefore costs only its own
 * frames: the broadcaster never waits on it.
 */
import type { WebSocket } from 'ws';
import type { SubscriberPath, SubscriberStatus } from '../protocol/hub-status';

export interface OutFrame {
  data: Buffer;
  /** Serialised header sent as a text message before `data` when the subscriber asked for headers. */
  header: string;
  /** When the hub broadcast it (Date.now()). */
  at: number;
}

export class Subscriber {
  delivered = 0;
  dropped = 0;
  private readonly queue: OutFrame[] = [];
  private inFlightBytes = 0;
  private inFlight = 0;
  private closed = false;
  readonly connectedAt = Date.now();

  constructor(
    readonly id: string,
    readonly path: SubscriberPath,
    readonly remote: string,
    private readonly ws: WebSocket,
    private readonly queueSize: number,
    private readonly withHeaders: boolean,
    /** A queued frame older than this when its turn comes is dropped (a reader back from a freeze gets now). */
    private readonly maxFrameAgeMs = Number.POSITIVE_INFINITY,
    private readonly maxInFlightBytes = 1024 * 1024,
  ) {}

  private nextFresh(): OutFrame | undefined {
    const now = Date.now();
    for (let f = this.queue.shift(); f; f = this.queue.shift()) {
      if (now - f.at <= this.maxFrameAgeMs) return f;
      this.dropped++;
    }
    return undefined;
  }

  offer(frame: OutFrame): void {
    if (this.closed) return;
    if (this.queue.length === 0 && (this.inFlight === 0 || this.inFlightBytes < this.maxInFlightBytes)) {
      this.write(frame);
      return;
    }
    if (this.queue.length >= this.queueSize) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(frame);
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }

  private write(frame: OutFrame): void {
    this.inFlight++;
    this.inFlightBytes += frame.data.length;
    if (this.withHeaders) this.ws.send(frame.header);
    this.ws.send(frame.data, { binary: true }, (err) => {
      this.inFlight--;
      this.inFlightBytes -= frame.data.length;
      if (this.closed) return;
      if (err) {
        this.closed = true;
        return;
      }
      this.delivered++;
      const next = this.nextFresh();
      if (next) this.write(next);
    });
  }

  status(): SubscriberStatus {
    return {
      id: this.id,
      path: this.path,
      remote: this.remote,
      connectedAt: this.connectedAt,
      delivered: this.delivered,
      dropped: this.dropped,
      queued: this.queue.length,
      bufferedBytes: this.ws.bufferedAmount,
    };
  }
}
