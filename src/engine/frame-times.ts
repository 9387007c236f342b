/**
 * Each decoded frame's presentation timestamp, read from the decoder ffmpeg's side channel: a second output of the
 * same decode, `-c:v wrapped_avframe -f framecrc` on fd 3, one line per frame in the source stream's time base
 * (`-enc_time_base -1`). The raw frames on stdout carry no timestamps; this pairs them by order.
 *
 * Lines are read as they come, independently of the frames (whoever wants frame N's time awaits `at(N)`), so a
 * consumer that is slow to pull frames never blocks ffmpeg on this pipe, and a line that lags its frame never
 * blocks the frame pipe.
 */
export class FrameTimes {
  private readonly known = new Map<number, number>();
  private readonly waiting = new Map<number, { resolve: (pts: number) => void; reject: (err: Error) => void }>();
  private next: number;
  private partial = '';
  private ended: Error | undefined;
  /** The time base ffmpeg printed (`#tb 0: 1/12800`), as `num/den`. */
  timeBase = '';

  /** @param firstIndex the index of the first frame the decoder delivers. */
  constructor(firstIndex: number) {
    this.next = firstIndex;
  }

  /** Feeds framecrc text as it arrives. */
  push(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  /** No more lines: frames without one are an error (a frame whose time is unknown cannot be placed). */
  end(err?: Error): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
    this.ended = err ?? new Error(`the decoder reported no timestamp for frame ${this.next} onwards`);
    for (const [, w] of this.waiting) w.reject(this.ended);
    this.waiting.clear();
  }

  /** Frame `index`'s timestamp in `timeBase` units. Each index is asked for once (the entry is then dropped). */
  at(index: number): Promise<number> {
    const pts = this.known.get(index);
    if (pts !== undefined) {
      this.forget(index);
      return Promise.resolve(pts);
    }
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => this.waiting.set(index, { resolve, reject }));
  }

  private line(line: string): void {
    const tb = /^#tb 0: (\d+)\/(\d+)/.exec(line);
    if (tb) this.timeBase = `${tb[1]}/${tb[2]}`;
    if (line.startsWith('#') || !line.trim()) return;
    // stream, dts, pts, duration, size, hash
    const pts = Number(line.split(',')[2]);
    const index = this.next++;
    const w = this.waiting.get(index);
    if (w) {
      this.waiting.delete(index);
      this.forget(index);
      w.resolve(pts);
    } else {
      this.known.set(index, pts);
    }
  }

  /** Drops entries before `index` too: frames decoded only to prime a resume are never asked for. */
  private forget(index: number): void {
    for (const k of this.known.keys()) if (k <= index) this.known.delete(k);
  }
}
