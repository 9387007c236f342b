import { linkBytes, type MotionLink } from './motion';

/**
 * One past frame as the temporal filter keeps it: low-res luma (for the change mask), the model's output, and,
 * when motion is followed, how it maps onto the frame before it.
 */
export interface HistoryEntry {
  index: number;
  luma: Uint8Array;
  output: Uint8Array;
  link?: MotionLink;
}

const entryBytes = (e: HistoryEntry): number =>
  e.luma.byteLength + e.output.byteLength + (e.link ? linkBytes(e.link) : 0);

/**
 * The most recent frames, newest first, never more than `capacity` of them nor more than `maxBytes` in all. Frames
 * are only referenced, not copied: the outputs are the model's own buffers, which nothing else writes after
 * the model returns them.
 */
export class FrameHistory {
  private entries: HistoryEntry[] = [];
  private bytes = 0;

  constructor(
    readonly capacity: number,
    readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  get byteLength(): number {
    return this.bytes;
  }

  /** Newest first: at(0) is the previous frame. */
  at(k: number): HistoryEntry | undefined {
    return this.entries[k];
  }

  /** Adds the newest frame, dropping the oldest ones until both bounds hold (an entry over the byte bound is not kept). */
  push(e: HistoryEntry): void {
    if (this.capacity <= 0 || entryBytes(e) > this.maxBytes) {
      this.clear();
      return;
    }
    this.entries.unshift(e);
    this.bytes += entryBytes(e);
    while (this.entries.length > this.capacity || this.bytes > this.maxBytes) {
      const old = this.entries.pop();
      if (old) this.bytes -= entryBytes(old);
    }
  }

  clear(): void {
    this.entries = [];
    this.bytes = 0;
  }
}
