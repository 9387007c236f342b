/**
 * The ranges of a split job (`--workers`, `--devices`, `--farm`) as the extension's views see them, folded from the
 * engine's `range` events. One reducer for the Jobs view (jobs/job-state.ts) and the monitor (webview/view-model.ts).
 */
import type { RangeEvent } from './engine-events';

export interface RangeView {
  /** `first:end` in segments, as the engine names it. */
  range: string;
  /** Who runs it (or ran it last): a local slot, or host/pid on a farm. */
  worker: string;
  state: RangeEvent['state'];
  frames: number;
  total: number;
  /** Times the range went back to the queue (a worker died, failed or refused it). */
  retries: number;
  fps?: number;
  /** The engine's reason for a retry, refusal or failure. */
  message?: string;
}

/** Ranges a job may hold in a view: a farm job is cut into a few dozen at most; beyond this the oldest done go. */
export const MAX_RANGES = 256;

/** Applies one `range` event; returns a new list in first-segment order (the input is not changed). */
export function applyRangeEvent(ranges: readonly RangeView[], ev: RangeEvent): RangeView[] {
  const old = ranges.find((r) => r.range === ev.range);
  const next: RangeView = {
    range: ev.range,
    worker: ev.worker || old?.worker || '',
    state: ev.state,
    frames: ev.frames,
    // A worker's `segment` report knows no total (0): keep the one the range had.
    total: ev.total > 0 ? ev.total : (old?.total ?? 0),
    retries: (old?.retries ?? 0) + (ev.state === 'retry' ? 1 : 0),
  };
  const fps = ev.fps ?? (ev.state === 'progress' || ev.state === 'segment' ? old?.fps : undefined);
  if (fps !== undefined) next.fps = fps;
  const message = ev.message ?? (ev.state === 'started' ? undefined : old?.message);
  if (message) next.message = message;
  const list = [...ranges.filter((r) => r !== old), next].sort((a, b) => firstSegment(a) - firstSegment(b));
  while (list.length > MAX_RANGES) {
    const i = list.findIndex((r) => r.state === 'done');
    list.splice(Math.max(i, 0), 1);
  }
  return list;
}

function firstSegment(r: RangeView): number {
  return Number(r.range.split(':')[0]) || 0;
}

/** A range a worker holds now. */
export function isRangeRunning(r: Pick<RangeView, 'state'>): boolean {
  return r.state === 'started' || r.state === 'progress' || r.state === 'segment';
}

/** A range back in the queue, waiting for a worker (after a retry or a refusal). */
export function isRangeWaiting(r: Pick<RangeView, 'state'>): boolean {
  return r.state === 'retry' || r.state === 'refused';
}

/** "ranges: 3 done, 1 running (worker 2), 0 failed" (plus "1 waiting" when some went back to the queue). */
export function rangeSummary(ranges: readonly RangeView[]): string {
  const done = ranges.filter((r) => r.state === 'done').length;
  const running = ranges.filter(isRangeRunning);
  const waiting = ranges.filter(isRangeWaiting).length;
  const failed = ranges.filter((r) => r.state === 'failed').length;
  const workers = [...new Set(running.map((r) => r.worker || '?'))];
  const who = workers.length > 0 ? ` (worker${workers.length > 1 ? 's' : ''} ${workers.join(', ')})` : '';
  const parts = [`${done} done`, `${running.length} running${who}`];
  if (waiting > 0) parts.push(`${waiting} waiting`);
  parts.push(`${failed} failed`);
  return `ranges: ${parts.join(', ')}`;
}

/** One range in two parts: "segments 3–4" and "worker host/123 · running 40/90 · 2.1 fps · 1 retry". */
export function rangeParts(r: RangeView): { segments: string; detail: string } {
  const [first, end] = r.range.split(':');
  const last = end ? Number(end) - 1 : undefined;
  const segments =
    last === undefined
      ? `segments ${first}–end`
      : last === Number(first)
        ? `segment ${first}`
        : `segments ${first}–${last}`;
  const progress = r.total > 0 ? ` ${r.frames}/${r.total}` : r.frames > 0 ? ` ${r.frames} frames` : '';
  const state = isRangeRunning(r) ? 'running' : isRangeWaiting(r) ? `waiting (${r.state})` : r.state;
  const parts = [`worker ${r.worker || '?'}`, `${state}${progress}`];
  if (r.fps !== undefined && r.fps > 0 && isRangeRunning(r)) parts.push(`${r.fps.toFixed(r.fps < 10 ? 1 : 0)} fps`);
  if (r.retries > 0) parts.push(`${r.retries} ${r.retries === 1 ? 'retry' : 'retries'}`);
  return { segments, detail: parts.join(' · ') };
}
