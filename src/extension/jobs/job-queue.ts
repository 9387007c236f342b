/**
 * FIFO of jobs with a concurrency limit per device (a GPU, or "cpu"). Pure bookkeeping: the job manager asks
 * `takeReady()` for what may start now and reports `finished()`.
 */
export class JobQueue {
  private readonly waiting: { id: string; device: string }[] = [];
  private readonly running = new Map<string, string>();
  private paused = false;

  constructor(private perDevice: number) {}

  setPerDevice(n: number): void {
    this.perDevice = Math.max(1, Math.floor(n));
  }

  enqueue(id: string, device: string): void {
    if (this.has(id)) throw new Error(`job ${id} is already queued or running`);
    this.waiting.push({ id, device });
  }

  /** A job already running that this queue did not start (an engine re-attached after a reload). */
  adoptRunning(id: string, device: string): void {
    if (this.has(id)) throw new Error(`job ${id} is already queued or running`);
    this.running.set(id, device);
  }

  has(id: string): boolean {
    return this.running.has(id) || this.waiting.some((w) => w.id === id);
  }

  /** Removes a job that has not started; returns false when it is not waiting. */
  remove(id: string): boolean {
    const i = this.waiting.findIndex((w) => w.id === id);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    return true;
  }

  /** A paused queue starts nothing new; running jobs go on. */
  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /**
   * Moves a waiting job `by` places (negative: sooner), clamped to the line; `-Infinity` puts it first. Returns
   * false when the job is not waiting.
   */
  move(id: string, by: number): boolean {
    const i = this.waiting.findIndex((w) => w.id === id);
    if (i < 0) return false;
    const to = Math.min(this.waiting.length - 1, Math.max(0, i + by));
    const [w] = this.waiting.splice(i, 1);
    this.waiting.splice(to, 0, w);
    return true;
  }

  /** Waiting job ids in the order they will start. */
  get waitingIds(): string[] {
    return this.waiting.map((w) => w.id);
  }

  /** Jobs that may start now, in queue order; they count as running from here on. Nothing while paused. */
  takeReady(): string[] {
    const started: string[] = [];
    if (this.paused) return started;
    for (let i = 0; i < this.waiting.length; ) {
      const w = this.waiting[i];
      if (this.runningOn(w.device) < this.perDevice) {
        this.waiting.splice(i, 1);
        this.running.set(w.id, w.device);
        started.push(w.id);
      } else {
        i++;
      }
    }
    return started;
  }

  finished(id: string): void {
    this.running.delete(id);
  }

  /** 1-based place in line, 0 when running or unknown. */
  position(id: string): number {
    return this.waiting.findIndex((w) => w.id === id) + 1;
  }

  get runningIds(): string[] {
    return [...this.running.keys()];
  }

  private runningOn(device: string): number {
    let n = 0;
    for (const d of this.running.values()) if (d === device) n++;
    return n;
  }
}
