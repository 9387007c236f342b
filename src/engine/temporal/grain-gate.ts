import { kthSmallest, type TileShifts, tileChange, tileWindowChange } from './tile-change';

/**
 * A tile the flow says stayed put counts as still when its mean |Δ| (tileChange) is at most GRAIN_MEAN_FACTOR times
 * the frame's median tile's, and its grain-averaged change (tileWindowChange) at most GRAIN_WINDOW_FACTOR times the
 * median tile's. The first catches texture that moved (its signed differences cancel in a window's mean, not in
 * |Δ|), the second a coherent change the size of a hand or a ball. Measured on people-grain (vtest.avi with an old
 * camera's grain, docs/dev/temporal.md): still tiles' mean |Δ| is ≤ 1.5× the median for 95 % of them, their window
 * change ≤ 3× for 90 %; together they pass 91 % of still tiles and 5 % of the tiles with any motion in the truth,
 * before the flow's veto.
 */
export const GRAIN_MEAN_FACTOR = 1.5;
export const GRAIN_WINDOW_FACTOR = 3;
/**
 * A grain-still tile the flow says moved is still reused in place unless its shifted reference matches it this many
 * times better (mean |Δ|) than its reference in place: on a still tile grain makes the flow wander, and the shift
 * matches no better; a tile that moved matches its shift far better.
 */
export const GRAIN_MOVED_GAIN = 1.25;
/**
 * Above this window allowance (levels of a 4×4 window's mean) grain hides changes of a hand's or a head's contrast,
 * and the present test decides alone. The stage clip's synthetic sensor noise (±10 levels on luma at the low-res
 * input) asks 22–25 and served its moving head stale (−0.58 dB, worst 1 % of the moving pixels 16 → 28 levels);
 * people-grain's old camera asks 6–15.
 */
export const GRAIN_MAX_WINDOW = 18;
/**
 * The grain levels may grow at most this much from one frame to the next (a crowd walking in does not raise them),
 * from at least GRAIN_FLOOR (a level of 0, a frame that did not change at all, must not hold them at 0).
 */
export const GRAIN_RISE = 2;
export const GRAIN_FLOOR = 0.5;
/** How the grain allowance works, for the checkpoint's pixel parameters (a resume must not mix two versions). */
export const GRAIN_VERSION = `median-${GRAIN_MEAN_FACTOR}-w4-${GRAIN_WINDOW_FACTOR}-max${GRAIN_MAX_WINDOW}-rise${GRAIN_RISE}-moved${GRAIN_MOVED_GAIN}`;

/**
 * The value sorting `values` would put at index ⌊n/2⌋: found by selection (kthSmallest), the same value, where there
 * is no NaN and no −0 (sorting puts −0 before +0, which selection does not tell apart); else sorted.
 */
export function median(values: Float32Array): number {
  const copy = values.slice();
  for (let i = 0; i < copy.length; i++) {
    const x = copy[i];
    if (Number.isNaN(x) || (x === 0 && 1 / x < 0)) return copy.sort()[copy.length >> 1];
  }
  return kthSmallest(copy, copy.length >> 1);
}

/** Per tile (row-major): its change in place, and what is left of it once the flow's motion is followed. */
export interface GrainMeasures {
  /** tileWindowChange in place. */
  windows: Float32Array;
  /** tileChange in place (the reuse test's own measure). */
  levels: Float32Array;
  /** The smaller of tileChange in place and at the flow's whole-pixel shift (grain: motion cannot explain it). */
  residual: Float32Array;
  /** tileWindowChange at the same place or shift. */
  residualWindows: Float32Array;
  /** tileChange at the flow's shift (as computed: the shift search reads it again); NaN where not measured. */
  moved: Float64Array;
}

/**
 * The measures GrainGate.still() reads, for every tile of `frame` against `ref` (the inputs the tiles' outputs were
 * made from); `levels` = tileChange in place, already measured by the reuse test; `shifts` the flow's per tile.
 */
export function grainMeasures(
  frame: Uint8Array,
  ref: Uint8Array,
  size: { width: number; height: number },
  levels: Float32Array,
  shifts: TileShifts,
): GrainMeasures {
  const { width, height } = size;
  const n = levels.length;
  const m = {
    windows: new Float32Array(n),
    levels,
    residual: new Float32Array(n),
    residualWindows: new Float32Array(n),
    moved: new Float64Array(n).fill(Number.NaN),
  };
  for (let i = 0; i < n; i++) {
    const box = shifts.box(i);
    m.windows[i] = tileWindowChange(frame, ref, width, box);
    m.residual[i] = levels[i];
    m.residualWindows[i] = m.windows[i];
    const { dx, dy } = shifts.at(i);
    if (dx === 0 && dy === 0) continue;
    if (box.x + dx < 0 || box.y + dy < 0 || box.x + box.w + dx > width || box.y + box.h + dy > height) continue;
    const moved = tileChange(frame, ref, width, box, dx, dy);
    m.moved[i] = moved;
    if (moved >= levels[i]) continue;
    m.residual[i] = moved;
    m.residualWindows[i] = tileWindowChange(frame, ref, width, box, dx, dy);
  }
  return m;
}

/**
 * The reuse test's allowance for a noisy camera. The present test (tileChange ≤ threshold) reads an old camera's
 * grain and codec noise as change on most tiles of a still scene. When it fails on most of the frame (engaged():
 * its median tile above the threshold, a threshold above 0), still() measures the frame's grain levels — the median
 * over its tiles of what is left of tileChange and tileWindowChange once the flow's motion is followed (so a pan,
 * where every tile changed, measures the small residual of its shifts, not its motion) — follows them from frame to
 * frame (rising at most GRAIN_RISE× per frame), and marks the tiles whose change in place is within GRAIN_MEAN_FACTOR
 * and GRAIN_WINDOW_FACTOR times them (none where that window allowance exceeds GRAIN_MAX_WINDOW). Clean footage, where the present test passes most tiles, and threshold 0
 * (reuse only identical tiles) never engage it, so they are reused exactly as before. The levels start afresh on
 * frames computed whole for a reason that resets the reuse (first, refresh, scene cut, size change): a resume primes
 * from such a frame, so it measures the same levels as an uninterrupted run.
 */
export class GrainGate {
  private mean: number | undefined;
  private window = 0;
  /** The limits the last still() applied (tileChange, tileWindowChange); undefined after a frame it did not mark. */
  allowance: { mean: number; window: number } | undefined;

  constructor(private readonly threshold: number) {}

  reset(): void {
    this.mean = undefined;
    this.allowance = undefined;
  }

  /** Whether this frame needs the grain allowance (and so the measures still() reads). Clears the last allowance. */
  engaged(levels: Float32Array): boolean {
    this.allowance = undefined;
    return this.threshold > 0 && median(levels) > this.threshold;
  }

  /**
   * Per tile (row-major), 1 where its change in place is within the grain allowance; undefined when the grain is too
   * strong to tell a change from (window allowance above GRAIN_MAX_WINDOW).
   */
  still(m: GrainMeasures): Uint8Array | undefined {
    const mean = median(m.residual);
    const window = median(m.residualWindows);
    const rise = (now: number, before: number) => Math.min(now, Math.max(before, GRAIN_FLOOR) * GRAIN_RISE);
    this.window = this.mean === undefined ? window : rise(window, this.window);
    this.mean = this.mean === undefined ? mean : rise(mean, this.mean);
    const a = { mean: GRAIN_MEAN_FACTOR * this.mean, window: GRAIN_WINDOW_FACTOR * this.window };
    if (a.window > GRAIN_MAX_WINDOW) return undefined;
    this.allowance = a;
    const still = new Uint8Array(m.levels.length);
    for (let i = 0; i < still.length; i++) still[i] = m.levels[i] <= a.mean && m.windows[i] <= a.window ? 1 : 0;
    return still;
  }
}
