import type { EngineEvent, StartEvent } from '../../protocol/engine-events';
import type { KeyValueStore } from '../jobs/job-journal';

const KEY = 'huaju4k.frameRates.v1';
/** A run shorter than this is still warming up (first model runs, empty temporal history): its rate is not kept. */
const MIN_FRAMES = 12;
/** The runs a rate is the median of, per model, provider and arithmetic: the last ones. */
const RUNS_KEPT = 5;

/** Model-input pixels of a run (its plan; the source's size from an engine without one): the unit a rate is per. */
export const modelPixels = (start: Pick<StartEvent, 'plan' | 'probe'>): number => {
  const size = start.plan?.modelInput ?? start.probe;
  return size.width * size.height;
};

/**
 * What a rate is kept under: the model, where it runs and its arithmetic (the same frame costs differently on another
 * provider or in fp32).
 */
export const rateKey = (model: string, provider: string, precision: string): string =>
  `${model}|${provider}|${precision}`;

/** What a rate is looked up by: a run's model, provider and arithmetic, and its model-input pixels per frame. */
export interface RunKind {
  model: string;
  executionProvider: string;
  precision: string;
  modelPixels: number;
}

/** The median of a few numbers (none: undefined). */
function median(xs: readonly number[]): number | undefined {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? undefined : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * This machine's measured steady time of a frame per model-input pixel, per model, provider and arithmetic, from its
 * last finished enhances (the done report's `steadyFrameMs`). The As… estimate times a video's frames by the median
 * of the last RUNS_KEPT: a 3-frame trial's own frames are still warming up (docs/dev/extension.md: a video timed by
 * them spread about as widely as scaling the trial), and one run of static footage (most tiles reused) would make a
 * single rate far too quick for the next video.
 */
export class FrameRates {
  private readonly starts = new Map<string, StartEvent>();

  constructor(private readonly store: KeyValueStore) {}

  /** Follows a job's engine events: a run that finished (past its warm-up) records its rate. */
  observe(jobId: string, ev: EngineEvent): void {
    if (ev.type === 'start') this.starts.set(jobId, ev);
    if (ev.type !== 'done' && ev.type !== 'error') return;
    const start = this.starts.get(jobId);
    this.starts.delete(jobId);
    const ms = ev.type === 'done' ? ev.report.steadyFrameMs : undefined;
    if (ev.type !== 'done' || !start || ms === undefined || modelPixels(start) <= 0) return;
    // A resumed run's done counts the frames kept before it too; only those it ran itself warmed it up.
    if (ev.frames - (start.resumeFromFrame ?? 0) < MIN_FRAMES) return;
    const key = rateKey(start.model.id, start.executionProvider, start.precision);
    const all = this.all();
    const runs = [...(all[key] ?? []), ms / 1000 / modelPixels(start)].slice(-RUNS_KEPT);
    // A store that cannot be written (a closing window) only costs the next estimate this run.
    this.store.update(KEY, { ...all, [key]: runs }).then(undefined, () => undefined);
  }

  /** Seconds a frame of `modelPixels` takes here: the median of the last finished runs; undefined before one. */
  secondsPerFrame(run: RunKind): number | undefined {
    const rate = median(this.all()[rateKey(run.model, run.executionProvider, run.precision)] ?? []);
    return rate !== undefined ? rate * run.modelPixels : undefined;
  }

  /** The stored rates, seconds a frame per model-input pixel, oldest first (what is not a positive number: left out). */
  private all(): Record<string, number[]> {
    const raw = this.store.get<Record<string, unknown>>(KEY) ?? {};
    const rates = Object.entries(raw).map(([k, v]): [string, number[]] => [
      k,
      Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number' && x > 0) : [],
    ]);
    return Object.fromEntries(rates.filter(([, v]) => v.length > 0));
  }
}
