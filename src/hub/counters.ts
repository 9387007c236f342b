/** Frame/byte counters with a sliding one-second-bucket rate, cheap enough to bump per frame. */
export class FrameCounter {
  frames = 0;
  bytes = 0;
  private readonly buckets: number[];
  private bucketSecond = 0;

  constructor(private readonly windowSeconds = 3) {
    this.buckets = new Array<number>(windowSeconds + 1).fill(0);
  }

  add(bytes: number, now = Date.now()): void {
    this.frames++;
    this.bytes += bytes;
    this.roll(now);
    this.buckets[this.bucketSecond % this.buckets.length]++;
  }

  /** Frames per second over the last complete `windowSeconds` seconds. */
  fps(now = Date.now()): number {
    this.roll(now);
    const current = this.bucketSecond % this.buckets.length;
    let sum = 0;
    for (let i = 0; i < this.buckets.length; i++) if (i !== current) sum += this.buckets[i];
    return sum / this.windowSeconds;
  }

  private roll(now: number): void {
    const sec = Math.floor(now / 1000);
    if (sec === this.bucketSecond) return;
    const steps = Math.min(sec - this.bucketSecond, this.buckets.length);
    for (let s = 1; s <= steps; s++) this.buckets[(this.bucketSecond + s) % this.buckets.length] = 0;
    this.bucketSecond = sec;
  }

  snapshot(now = Date.now()): { frames: number; bytes: number; fps: number } {
    return { frames: this.frames, bytes: this.bytes, fps: Math.round(this.fps(now) * 100) / 100 };
  }
}
