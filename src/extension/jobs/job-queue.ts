/**
 * How many of its device's job slots a job takes: a job split over local engine processes (`--workers N`,
 * `--devices a,b`) runs as that many jobs at once; any other job (a farm job's coordinator included) as one.
 */
export function slotsOf(args: readonly string[]): number {
  for (let i = 0; i < args.length; i++) {
    const [name, inline] = args[i].split('=', 2);
    const value = inline ?? args[i + 1];
    if (name === '--workers') return Math.max(1, Number.parseInt(value ?? '', 10) || 1);
    if (name === '--devices') return Math.max(1, (value ?? '').split(',').filter((d) => d.trim()).length);
    if (args[i] === '--') break;
  }
  return 1;
}

interface Queued {
  id: string;
  device: string;
  /** Job slots it takes on its device (slotsOf). */
  slots: number;
}

/**
 * FIFO of jobs with a concurrency limit per device (a GPU, or "cpu"): at most `perDevice` slots in use, a split job
 * taking one per engine process (slotsOf). A job that needs more slots than the limit runs alone on its device.
 * Pure bookkeeping: the job manager asks `takeReady()` for what may start now and reports `finished()`.
 */
export class JobQueue {
  private readonly waiting: Queued[] = [];
  private readonly running = new Map<string, Queued>();
  private paused = false;

  constructor(private perDevice: number) {}

  setPerDevice(n: number): void {
    this.perDevice = Math.max(1, Math.floor(n));
  }

  enqueue(id: string, device: string, slots = 1): void {
    if (this.has(id)) throw new Error(`job ${id} is already queued or running`);
    this.waiting.push({ id, device, slots });
  }

  /** A job already running that this queue did not start (an engine re-attached after a reload). */
  adoptRunning(id: string, device: string, slots = 1): void {
    if (this.has(id)) throw new Error(`job ${id} is already queued or running`);
    this.running.set(id, { id, device, slots });
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

  /**
   * Jobs that may start now, in queue order; they count as running from here on. Nothing while paused. A job that
   * must wait holds back the jobs behind it on its device (a split job is not overtaken by the one-slot jobs after it).
   */
  takeReady(): string[] {
    const started: string[] = [];
    if (this.paused) return started;
    const held = new Set<string>();
    for (let i = 0; i < this.waiting.length; ) {
      const w = this.waiting[i];
      const used = this.runningOn(w.device);
      if (!held.has(w.device) && (used === 0 || used + w.slots <= this.perDevice)) {
        this.waiting.splice(i, 1);
        this.running.set(w.id, w);
        started.push(w.id);
      } else {
        held.add(w.device);
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

  /** Slots in use on a device. */
  private runningOn(device: string): number {
    let n = 0;
    for (const r of this.running.values()) if (r.device === device) n += r.slots;
    return n;
  }
}
