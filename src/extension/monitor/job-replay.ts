/**
 * What the host keeps of each job so a panel opened (or restored, or re-shown) mid-run can be brought up to date
 * with one `init` message. Bounded: the last SERIES_POINTS progress and sample events (what the charts hold), the
 * newest preview, a few warnings, the segments, and the terminal event.
 */
import type { EngineEvent } from '../../protocol/engine-events';

export const SERIES_POINTS = 600;
const MAX_SEGMENTS = 400;
const MAX_WARNINGS = 5;
/** BullMQ gives a range 4 attempts, local workers 3: a few more events than that per range. */
const MAX_RANGE_RETRIES = 8;

function pushBounded<T>(list: T[], item: T, cap: number): void {
  list.push(item);
  if (list.length > cap) list.splice(0, list.length - cap);
}

export class JobReplay {
  private start: EngineEvent | undefined;
  private readonly progress: EngineEvent[] = [];
  private readonly samples: EngineEvent[] = [];
  private readonly segments: EngineEvent[] = [];
  private readonly warnings: EngineEvent[] = [];
  /**
   * A split job's ranges: per range its retries (the views count them) and its newest other event, what a re-opened
   * panel needs to show who runs what.
   */
  private readonly ranges = new Map<string, EngineEvent[]>();
  private preview: EngineEvent | undefined;
  private terminal: EngineEvent | undefined;
  lastTs = 0;

  constructor(readonly jobId: string) {}

  get finished(): boolean {
    return this.terminal !== undefined;
  }

  record(event: EngineEvent): void {
    this.lastTs = Math.max(this.lastTs, event.ts);
    switch (event.type) {
      case 'start':
        // A resumed run restarts the job's story: forget the previous attempt.
        this.start = event;
        this.progress.length = 0;
        this.samples.length = 0;
        this.segments.length = 0;
        this.warnings.length = 0;
        this.ranges.clear();
        this.preview = undefined;
        this.terminal = undefined;
        break;
      case 'progress':
        pushBounded(this.progress, event, SERIES_POINTS);
        break;
      case 'sample':
        pushBounded(this.samples, event, SERIES_POINTS);
        break;
      case 'segment':
        pushBounded(this.segments, event, MAX_SEGMENTS);
        break;
      case 'warning':
        pushBounded(this.warnings, event, MAX_WARNINGS);
        break;
      case 'range': {
        const kept = (this.ranges.get(event.range) ?? []).filter((e) => e.type === 'range' && e.state === 'retry');
        this.ranges.set(event.range, [...kept, event].slice(-MAX_RANGE_RETRIES));
        break;
      }
      case 'preview':
        this.preview = event;
        break;
      case 'error':
      case 'done':
        this.terminal = event;
        break;
    }
  }

  /** Events to replay, `start` first, the rest in time order, the terminal event last. */
  events(): EngineEvent[] {
    const middle = [
      ...this.progress,
      ...this.samples,
      ...this.segments,
      ...this.warnings,
      ...[...this.ranges.values()].flat(),
    ];
    if (this.preview) middle.push(this.preview);
    middle.sort((a, b) => a.ts - b.ts);
    return [...(this.start ? [this.start] : []), ...middle, ...(this.terminal ? [this.terminal] : [])];
  }
}
