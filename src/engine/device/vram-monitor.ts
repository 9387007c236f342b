import type { GpuState } from '../../protocol/engine-events';
import { queryGpuState } from './nvidia-smi';

export interface VramMonitorOptions {
  budgetBytes: number;
  intervalMs?: number;
  /** nvidia-smi binary (path or name on PATH). */
  bin?: string;
}

/**
 * Polls nvidia-smi on a timer and keeps the latest reading for the `sample` events, plus the peak use per GPU.
 * One query at a time (a slow driver never piles up children); the timer does not keep the process alive. When the
 * first query says there is no GPU, polling stops: the answer will not change during a run.
 */
export class VramMonitor {
  private latest: GpuState = { available: false, reason: 'not sampled yet' };
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly peaks = new Map<number, number>();

  constructor(private readonly opts: VramMonitorOptions) {}

  /** Takes the first reading (awaited), then polls until `stop()`. */
  async start(): Promise<GpuState> {
    await this.poll();
    if (this.latest.available && !this.timer) {
      this.timer = setInterval(() => void this.poll(), this.opts.intervalMs ?? 1000);
      this.timer.unref();
    }
    return this.latest;
  }

  poll(): Promise<void> {
    this.inFlight ??= queryGpuState(this.opts.budgetBytes, this.opts.bin)
      .then((s) => {
        this.latest = s;
        if (s.available) {
          for (const g of s.gpus) this.peaks.set(g.index, Math.max(this.peaks.get(g.index) ?? 0, g.usedBytes));
        }
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /** The latest reading (what `sample.gpu` carries). */
  state(): GpuState {
    return this.latest;
  }

  /** Highest memory.used seen per GPU index since start. */
  peakUsedBytes(): ReadonlyMap<number, number> {
    return this.peaks;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }
}
