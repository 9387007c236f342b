/**
 * Fixed-capacity FIFO: once full, each push overwrites the oldest value. Every chart series in the monitor lives in
 * one of these so a run of any length holds at most `capacity` points per series.
 */
export class RingBuffer<T> {
  private readonly items: T[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`ring capacity must be ≥ 1, got ${capacity}`);
    this.items = new Array<T>(capacity);
  }

  get length(): number {
    return this.count;
  }

  push(value: T): void {
    const end = (this.start + this.count) % this.capacity;
    this.items[end] = value;
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** The i-th oldest retained value (0 = oldest). */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.count) return undefined;
    return this.items[(this.start + i) % this.capacity];
  }

  last(): T | undefined {
    return this.at(this.count - 1);
  }

  /** A copy, oldest first. */
  toArray(): T[] {
    const out = new Array<T>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.items[(this.start + i) % this.capacity];
    return out;
  }

  clear(): void {
    this.items.fill(undefined as T);
    this.start = 0;
    this.count = 0;
  }
}

/** uPlot's aligned data layout: one x column then one column per series (null = gap). */
export type AlignedData = [number[], ...(number | null)[][]];

/** Several y-series sharing one x column, each bounded by the same ring capacity. */
export class SeriesRing {
  private readonly xs: RingBuffer<number>;
  private readonly ys: RingBuffer<number | null>[];

  constructor(
    capacity: number,
    readonly width: number,
  ) {
    this.xs = new RingBuffer<number>(capacity);
    this.ys = Array.from({ length: width }, () => new RingBuffer<number | null>(capacity));
  }

  get length(): number {
    return this.xs.length;
  }

  get capacity(): number {
    return this.xs.capacity;
  }

  /** Appends one point; x must not go backwards (a late point replaces nothing and is dropped). */
  push(x: number, values: readonly (number | null)[]): boolean {
    if (values.length !== this.width) throw new RangeError(`expected ${this.width} values, got ${values.length}`);
    const lastX = this.xs.last();
    if (!Number.isFinite(x) || (lastX !== undefined && x < lastX)) return false;
    this.xs.push(x);
    for (let i = 0; i < this.width; i++) {
      const v = values[i];
      this.ys[i].push(v === null || !Number.isFinite(v) ? null : v);
    }
    return true;
  }

  lastValue(column: number): number | null | undefined {
    return this.ys[column]?.last();
  }

  data(): AlignedData {
    return [this.xs.toArray(), ...this.ys.map((r) => r.toArray())];
  }

  clear(): void {
    this.xs.clear();
    for (const r of this.ys) r.clear();
  }
}
