/**
 * A bounded FIFO between two pipeline stages, bounded by bytes rather than items (frames differ in size by 16×
 * before and after the model). `push` waits while the ring is over budget — that wait is the backpressure that
 * stops the decoder from running ahead. One item larger than the whole budget is still admitted when the ring is
 * empty, so a tiny budget slows the pipeline down but never deadlocks it.
 */
export class FrameRing<T> {
  private readonly items: Array<{ item: T; bytes: number }> = [];
  private used = 0;
  private peak = 0;
  private closed = false;
  private failure: Error | undefined;
  private spaceWaiters: Array<() => void> = [];
  private itemWaiters: Array<() => void> = [];

  constructor(readonly budgetBytes: number) {
    if (!(budgetBytes > 0)) throw new RangeError(`frame ring budget must be > 0 bytes, got ${budgetBytes}`);
  }

  get usedBytes(): number {
    return this.used;
  }

  get peakBytes(): number {
    return this.peak;
  }

  get length(): number {
    return this.items.length;
  }

  private fits(bytes: number): boolean {
    return this.items.length === 0 || this.used + bytes <= this.budgetBytes;
  }

  async push(item: T, bytes: number): Promise<void> {
    while (!this.failure && !this.closed && !this.fits(bytes)) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('push to a closed frame ring');
    this.items.push({ item, bytes });
    this.used += bytes;
    this.peak = Math.max(this.peak, this.used);
    this.wake('item');
  }

  /** Next item, or undefined once the ring is closed and drained. */
  async shift(): Promise<T | undefined> {
    while (!this.failure && this.items.length === 0 && !this.closed) {
      await new Promise<void>((resolve) => this.itemWaiters.push(resolve));
    }
    if (this.failure) throw this.failure;
    const head = this.items.shift();
    if (!head) return undefined;
    this.used -= head.bytes;
    this.wake('space');
    return head.item;
  }

  /** No more items will come; consumers drain what is left and then get undefined. */
  close(): void {
    this.closed = true;
    this.wake('space');
    this.wake('item');
  }

  /** Fails both ends now (a stage died): waiting producers and consumers throw `err`. */
  abort(err: Error): void {
    if (!this.failure) this.failure = err;
    this.items.length = 0;
    this.used = 0;
    this.wake('space');
    this.wake('item');
  }

  private wake(which: 'space' | 'item'): void {
    const list = which === 'space' ? this.spaceWaiters : this.itemWaiters;
    if (which === 'space') this.spaceWaiters = [];
    else this.itemWaiters = [];
    for (const w of list) w();
  }
}

/**
 * Splits one byte budget between the ring before the model (small frames) and the ring after it (large frames)
 * so both hold the same number of frames; each holds at least one.
 */
export function splitBudget(budgetBytes: number, inFrameBytes: number, outFrameBytes: number): [number, number] {
  const frames = Math.max(1, Math.floor(budgetBytes / (inFrameBytes + outFrameBytes)));
  return [frames * inFrameBytes, frames * outFrameBytes];
}
