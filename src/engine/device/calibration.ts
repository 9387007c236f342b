import { readFileSync, writeFileSync } from 'node:fs';
import type { MemoryModel } from './budget';
import { deviceUsedBytes, processGpuBytes } from './nvidia-smi';

/** Measures how much memory a stretch of work needed at its peak (bytes above the level at `begin`). */
export interface MemoryProbe {
  /** How it measures (recorded with the calibration). */
  readonly kind: string;
  begin(): Promise<void>;
  /** Peak growth since `begin`; undefined when this probe cannot measure here. */
  peakSinceBegin(): Promise<number | undefined>;
}

const statusField = (status: string, field: string): number | undefined => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
};

/**
 * Process memory on Linux: resets the peak-RSS counter (`echo 5 > /proc/self/clear_refs`) and reads VmHWM, so a
 * run's transient peak counts even when the allocator returns the memory at its end. Elsewhere, RSS after the run
 * (onnxruntime's CPU arena keeps what it grew, so that is close to the peak).
 */
export class ProcessMemoryProbe implements MemoryProbe {
  readonly kind = 'process-rss';
  private base = 0;
  private hwm = false;

  async begin(): Promise<void> {
    try {
      writeFileSync('/proc/self/clear_refs', '5');
      const status = readFileSync('/proc/self/status', 'utf8');
      this.base = statusField(status, 'VmRSS') ?? process.memoryUsage.rss();
      this.hwm = statusField(status, 'VmHWM') !== undefined;
    } catch {
      this.base = process.memoryUsage.rss();
      this.hwm = false;
    }
  }

  async peakSinceBegin(): Promise<number> {
    if (this.hwm) {
      const peak = statusField(readFileSync('/proc/self/status', 'utf8'), 'VmHWM');
      if (peak !== undefined) return Math.max(0, peak - this.base);
    }
    return Math.max(0, process.memoryUsage.rss() - this.base);
  }
}

/**
 * GPU memory this process holds, from nvidia-smi's per-process accounting; where that does not list this process
 * (containers: host pids), the device's memory.used, which also counts other processes (a busy desktop makes the
 * calibration cautious, never too bold). onnxruntime's CUDA arena does not give memory back between runs, so the
 * level after a run is its peak.
 */
export class NvidiaProcessProbe implements MemoryProbe {
  kind = 'nvidia-process';
  private base: number | undefined;
  private read: () => Promise<number | undefined>;

  /** `index`: nvidia-smi's index of the GPU the model runs on (read device-wide when per-process is not offered). */
  constructor(
    private readonly bin = 'nvidia-smi',
    private readonly index = 0,
  ) {
    this.read = () => processGpuBytes(process.pid, this.bin);
  }

  async begin(): Promise<void> {
    this.base = await this.read();
    if (this.base === undefined) {
      this.kind = 'nvidia-device';
      this.read = () => deviceUsedBytes(this.index, this.bin);
      this.base = await this.read();
    }
  }

  async peakSinceBegin(): Promise<number | undefined> {
    if (this.base === undefined) return undefined;
    const now = await this.read();
    return now === undefined ? undefined : Math.max(0, now - this.base);
  }
}

export interface CalibrationResult extends MemoryModel {
  /** The tile sides run, smallest first, and the peak bytes measured after each (cumulative from the start). */
  sides: number[];
  peakBytes: number[];
  probe: string;
}

/** Output bytes per input pixel of a ×scale float32 RGB model: the least a run can need, a floor for the slope. */
export const minBytesPerPixel = (scale: number): number => 3 * 4 * (1 + scale * scale);

/**
 * Runs the model on square inputs of growing `sides` and fits memory = fixed + perPixel·pixels: the slope between
 * the first and last peaks, the intercept lifted so the line covers every peak. Peaks are cumulative (never reset in
 * between), so an arena that reuses the first run's memory for the second still counts it. Undefined when the probe
 * cannot measure.
 */
export async function calibrate(
  runSide: (side: number) => Promise<void>,
  probe: MemoryProbe,
  opts: { scale: number; sides?: number[] },
): Promise<CalibrationResult | undefined> {
  const sides = [...(opts.sides ?? [64, 128])].sort((a, b) => a - b);
  if (sides.length < 2) throw new RangeError('calibration needs at least two tile sizes');
  await probe.begin();
  const peaks: number[] = [];
  for (const side of sides) {
    await runSide(side);
    const peak = await probe.peakSinceBegin();
    if (peak === undefined) return undefined;
    peaks.push(Math.max(peak, peaks[peaks.length - 1] ?? 0));
  }
  const p0 = sides[0] ** 2;
  const p1 = sides[sides.length - 1] ** 2;
  const slope = (peaks[peaks.length - 1] - peaks[0]) / (p1 - p0);
  const bytesPerPixel = Math.max(slope, minBytesPerPixel(opts.scale));
  // The line sits on or above every measurement (a negative intercept, common when the first run is tiny, is 0).
  const fixedBytes = Math.max(0, ...sides.map((side, i) => peaks[i] - bytesPerPixel * side ** 2));
  return { fixedBytes, bytesPerPixel, sides, peakBytes: peaks, probe: probe.kind };
}
