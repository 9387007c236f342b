import type { GpuState } from '../protocol/engine-events';
import { dirBytes } from './checkpoint/workdir';
import { freeBytes } from './disk/guard';
import type { Emit } from './events';
import type { FrameUpscaler } from './pipeline-types';
import { StageClock } from './stage-clock';

const PROGRESS_EVERY_MS = Number(process.env.HUAJU4K_PROGRESS_EVERY_MS ?? 250);
const SAMPLE_EVERY_MS = 1000;

export interface TelemetryOptions {
  emit: Emit;
  /** The work folder: its size and free space go into `sample`. */
  dir: string;
  total: number;
  upscaler: FrameUpscaler;
  /** True when stages run after the model (their time is reported as `temporal`). */
  hasStages: boolean;
  /** Bytes held by the frame rings now, and their budget. */
  frameBuffer: () => { used: number; budget: number };
  gpu?: () => GpuState;
}

/** What a run reports while it goes: `progress` (≤ 4/s) and `sample` (1/s) events, stage times, peak memory. */
export class RunTelemetry {
  readonly clock = new StageClock();
  readonly startedAt = Date.now();
  private encodedNow = 0;
  private lastProgress = 0;
  private lastSample = 0;
  private peak = process.memoryUsage.rss();

  constructor(private readonly o: TelemetryOptions) {}

  /** Frames encoded by this process (a resumed run counts from its own start). */
  get encoded(): number {
    return this.encodedNow;
  }

  get peakRssBytes(): number {
    return this.peak;
  }

  /** After each encoded frame; `done` is the job's frame count so far (resumed frames included). */
  frameEncoded(done: number, now = Date.now()): void {
    this.encodedNow++;
    this.sample(now);
    if (now - this.lastProgress < PROGRESS_EVERY_MS && done !== this.o.total) return;
    this.lastProgress = now;
    const secs = (now - this.startedAt) / 1000;
    const fps = secs > 0 ? this.encodedNow / secs : 0;
    const { total, upscaler } = this.o;
    this.o.emit({
      type: 'progress',
      frame: done,
      total: Math.max(total, done),
      fps,
      etaS: fps > 0 ? Math.max(0, total - done) / fps : 0,
      stageMs: this.clock.snapshot(this.o.hasStages),
      ...(upscaler.reuseRatio !== undefined && { reuseRatio: upscaler.reuseRatio }),
    });
  }

  private sample(now: number): void {
    const rss = process.memoryUsage.rss();
    this.peak = Math.max(this.peak, rss);
    if (now - this.lastSample < SAMPLE_EVERY_MS) return;
    this.lastSample = now;
    const buffer = this.o.frameBuffer();
    this.o.emit({
      type: 'sample',
      rssBytes: rss,
      frameBufferBytes: buffer.used,
      frameBufferBudgetBytes: buffer.budget,
      freeDiskBytes: freeBytes(this.o.dir),
      jobDiskBytes: dirBytes(this.o.dir),
      ...(this.o.gpu ? { gpu: this.o.gpu() } : {}),
    });
  }
}
