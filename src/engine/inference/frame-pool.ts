/**
 * Frame buffers reused instead of allocated per frame: a fresh 25 MB (4K rgb24) buffer costs thousands of page
 * faults and the kernel zeroing every page, every frame. `acquire` hands out a buffer of exactly the size asked
 * (a free one when there is one), `release` takes back one nothing reads any more. Each buffer is its own
 * ArrayBuffer, so it can be transferred between threads without a copy. Buffers that are never released are
 * simply collected; the pool only keeps up to `maxFree` of each size.
 */
export class FramePool {
  private readonly free = new Map<number, Buffer[]>();
  private created = 0;

  constructor(readonly maxFree = 4) {}

  /** Buffers allocated so far (not handed back from the free list). */
  get allocated(): number {
    return this.created;
  }

  acquire(bytes: number): Buffer {
    const reused = this.free.get(bytes)?.pop();
    if (reused) return reused;
    this.created++;
    return Buffer.allocUnsafeSlow(bytes);
  }

  /** Takes `buf` back for a later `acquire`; the caller must not touch it afterwards. */
  release(buf: Buffer): void {
    if (buf.byteOffset !== 0 || buf.byteLength !== buf.buffer.byteLength || buf.byteLength === 0) return;
    let list = this.free.get(buf.byteLength);
    if (!list) {
      // Only the latest size is worth keeping (a tile change or a new job changes it).
      this.free.clear();
      list = [];
      this.free.set(buf.byteLength, list);
    }
    if (list.length < this.maxFree && !list.includes(buf)) list.push(buf);
  }
}
