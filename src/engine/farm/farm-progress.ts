import type { RangeEvent, StageMs } from '../../protocol/engine-events';
import type { Emit } from '../events';
import { type FrameRange, rangeName } from './ranges';

const PROGRESS_EVERY_MS = Number(process.env.HUAJU4K_PROGRESS_EVERY_MS ?? 250);

/**
 * One progress stream for a job whose ranges run in several places: frames done per range (a range's own count,
 * resumed segments included), summed into the job's `progress`, and each range's changes of hands as `range` events.
 */
export class FarmProgress {
  private readonly frames = new Map<string, number>();
  private readonly startedAt = Date.now();
  private readonly atStart: number;
  private lastEmit = 0;
  stageMs: StageMs | undefined;

  constructor(
    private readonly total: number,
    private readonly emit: Emit,
    done: ReadonlyMap<string, number>,
  ) {
    for (const [k, v] of done) this.frames.set(k, v);
    this.atStart = this.sum();
  }

  get done(): number {
    return this.sum();
  }

  /** Frames this coordinator saw encoded (not the ones a continued job had before). */
  get encodedHere(): number {
    return this.sum() - this.atStart;
  }

  get seconds(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  /** A range's frame count changed (a worker's progress), or it changed hands (`state`). */
  update(r: FrameRange, worker: string, frames: number, state?: RangeEvent['state'], extra = {}) {
    this.frames.set(rangeName(r), frames);
    if (state) {
      const total = r.endFrame - r.startFrame;
      this.emit({ type: 'range', range: rangeName(r), worker, state, frames, total, ...extra });
    }
    const now = Date.now();
    if (now - this.lastEmit < PROGRESS_EVERY_MS && state !== 'done') return;
    this.lastEmit = now;
    const done = this.sum();
    const fps = this.encodedHere / Math.max(1e-3, this.seconds);
    this.emit({
      type: 'progress',
      frame: done,
      total: Math.max(this.total, done),
      fps,
      etaS: fps > 0 ? Math.max(0, this.total - done) / fps : 0,
      stageMs: this.stageMs ?? { decode: 0, infer: 0, encode: 0 },
    });
  }

  private sum(): number {
    let n = 0;
    for (const v of this.frames.values()) n += v;
    return n;
  }
}
