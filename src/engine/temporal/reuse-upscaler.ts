import type { FrameUpscaler } from '../frame-stage';
import { frameLuma, frameSceneCut } from './frame-luma';
import { GRAIN_MOVED_GAIN, GrainGate } from './grain-gate';
import type { MotionEstimator } from './motion';
import { groupChangedTiles, type TileSpan } from './region-plan';
import { TileMeasures } from './reuse-simd';
import { type TileBox, TileShifts } from './tile-change';

export interface ReuseOptions {
  /** Tile side in low-res pixels. */
  tile?: number;
  /** Real neighbouring content fed to the model around each recomputed area, low-res pixels. */
  pad?: number;
  /** A tile is reused while tileChange(current, input its output was made from) ≤ this (0..255 levels). */
  threshold?: number;
  /** Every frame whose index is a multiple of this is recomputed whole (0 = never). */
  refreshEvery?: number;
  /** When the areas to recompute (with padding) cover more than this share of the frame, run it whole. */
  wholeFrameAbove?: number;
  /** A tile is served from a shifted previous output only while that output is at most this many frames old. */
  shiftMaxAge?: number;
  /**
   * A tile that moved is served from the shifted previous output while tileChange(current, shifted reference) ≤
   * threshold × this (a tile that stayed put: ≤ threshold).
   */
  shiftTolerance?: number;
}

/**
 * Measured with `npm run quality` (docs/dev/temporal.md): 8-pixel tiles hug a moving part closely, and 8 pixels
 * of context cost < 0.1 dB against whole-frame inference while keeping the recomputed areas small. A moved tile
 * may differ from its shifted reference twice as much as a still one from its own: the encoder codes moved grain
 * and texture afresh, and the alternative, recomputing the tile with 8 pixels of context, cost more (pan clip,
 * shiftMaxAge 1: ΔPSNR −0.05 → 0.00 dB against per-frame, 1.15× → 1.44× faster). A shifted output serves up to
 * two frames: the pan 1.67× faster than per-frame at −0.04 dB (three frames: 1.98×, −0.05 dB).
 */
export const REUSE_DEFAULTS: Required<ReuseOptions> = {
  tile: 8,
  pad: 8,
  threshold: 1.5,
  refreshEvery: 60,
  wholeFrameAbove: 0.6,
  shiftMaxAge: 2,
  shiftTolerance: 2,
};

/** A tile taken from the previous output moved by (dx, dy) low-res pixels. */
interface TileShift {
  tile: number;
  box: TileBox;
  dx: number;
  dy: number;
  /** The oldest frame the shifted output was made from. */
  source: number;
}

/** dst's rect ← src's rect moved by (dx, dy), packed RGB24 frames of `width` pixels. */
function copyRect(src: Uint8Array, dst: Uint8Array, width: number, rect: TileBox, dx: number, dy: number): void {
  const stride = width * 3;
  for (let y = rect.y; y < rect.y + rect.h; y++) {
    const to = y * stride + rect.x * 3;
    const from = to + dy * stride + dx * 3;
    dst.set(src.subarray(from, from + rect.w * 3), to);
  }
}

/**
 * The shifted tiles (in tile order) as rectangles: tiles side by side in one row of tiles (`cols` per row) with the
 * same shift joined into one.
 */
function sameShiftRuns(shifts: TileShift[], cols: number): { box: TileBox; dx: number; dy: number }[] {
  const runs: { box: TileBox; dx: number; dy: number; last: number }[] = [];
  for (const { tile, box, dx, dy } of shifts) {
    const run = runs[runs.length - 1];
    if (run && run.last === tile - 1 && tile % cols !== 0 && run.dx === dx && run.dy === dy) {
      run.box.w += box.w;
      run.last = tile;
    } else runs.push({ box: { ...box }, dx, dy, last: tile });
  }
  return runs;
}

/**
 * What an output of the reuse wrapper shares with the outputs before it: `prev` is the output it was made from
 * (copied, then changed where needed), and per tile (row-major, `tile` low-res pixels, `cols` per row) for how many
 * outputs in a row, ending with `prev`, its bytes stayed the same in place (0 = recomputed or moved this frame).
 * The temporal stage skips the blend where every past it would read is these same bytes (temporal-stage.ts).
 */
export interface UnchangedTiles {
  prev: Uint8Array;
  runs: Uint8Array;
  tile: number;
  cols: number;
}

/** Why the last frame was computed the way it was. */
export type ReuseDecision = 'first' | 'refresh' | 'scene-cut' | 'size-change' | 'too-many-changes' | 'tiles';

/**
 * A FrameUpscaler that runs the model only where the low-res input changed. Each tile's input is compared with
 * the input its current output was made from (not just the previous frame, so slow drift cannot accumulate past
 * the threshold); changed tiles are grouped into rectangles, each run through the inner upscaler with `pad`
 * pixels of context, and the other tiles keep their previous output. A whole frame is recomputed on the first
 * frame, on scene cuts, every `refreshEvery` frames (at absolute frame indices, so a resumed run refreshes on the
 * same frames) and when most of the frame changed.
 */
export class ReuseUpscaler implements FrameUpscaler {
  readonly opts: Required<ReuseOptions>;
  private next = 0;
  private width = 0;
  private height = 0;
  private ref: Uint8Array | undefined;
  private prevLuma: Uint8Array | undefined;
  private prevOut: Buffer | undefined;
  /** For each tile, the index of the frame whose input made its current output. */
  private sources = new Int32Array(0);
  private reused = 0;
  private total = 0;
  private decision: ReuseDecision = 'first';
  private lastReused = 0;
  private shifted = 0;
  private lastShiftedTiles = 0;
  /** Per tile, the runs of the last output (UnchangedTiles.runs). */
  private runs = new Uint8Array(0);
  private readonly unchanged = new WeakMap<Uint8Array, UnchangedTiles>();
  /** The clip's grain level, followed from frame to frame (with motion only). */
  private readonly grain: GrainGate;

  /** With `motion`, a changed tile whose content moved by a whole low-res pixel shift takes the shifted output. */
  constructor(
    private readonly inner: FrameUpscaler,
    opts: ReuseOptions = {},
    private readonly motion?: MotionEstimator,
  ) {
    this.opts = { ...REUSE_DEFAULTS, ...opts };
    this.grain = new GrainGate(this.opts.threshold);
    if (!(this.opts.tile >= 4)) throw new RangeError(`reuse tile must be ≥ 4 pixels, got ${this.opts.tile}`);
    if (!(this.opts.threshold >= 0)) throw new RangeError(`reuse threshold must be ≥ 0, got ${this.opts.threshold}`);
    if (!(this.opts.shiftTolerance >= 1))
      throw new RangeError(`reuse shift tolerance must be ≥ 1, got ${this.opts.shiftTolerance}`);
  }

  get scale(): number {
    return this.inner.scale;
  }

  /** Share of tiles served from a previous output, over all frames since the start (or the last seek). */
  get reuseRatio(): number {
    return this.total ? this.reused / this.total : 0;
  }

  /** Index the next upscale() call is taken to be. */
  get nextIndex(): number {
    return this.next;
  }

  get lastDecision(): ReuseDecision {
    return this.decision;
  }

  /** Tiles served from a shifted previous output (motion-compensated reuse), since the start or the last seek. */
  get shiftedTiles(): number {
    return this.shifted;
  }

  /** Of the last frame's reused tiles, those taken from a shifted previous output. */
  get lastShifted(): number {
    return this.lastShiftedTiles;
  }

  /**
   * The grain allowance the last frame's in-place reuse used (GrainGate), undefined where it used the threshold
   * alone (clean footage, `--motion off`, a frame computed whole).
   */
  get lastGrainAllowance(): { mean: number; window: number } | undefined {
    return this.decision === 'tiles' ? this.grain.allowance : undefined;
  }

  /** Tiles reused in the last frame. */
  get lastReusedTiles(): number {
    return this.lastReused;
  }

  /** For an output this wrapper returned (and that is still referenced): what it shares with the ones before. */
  unchangedTiles(output: Uint8Array): UnchangedTiles | undefined {
    return this.unchanged.get(output);
  }

  /** Per tile (row-major), the frame index its current output was computed from. */
  tileSources(): Int32Array {
    return this.sources.slice();
  }

  /** Drops all state; the next upscale() is frame `index`. */
  seek(index: number): void {
    this.next = index;
    this.ref = undefined;
    this.prevLuma = undefined;
    this.prevOut = undefined;
    this.reused = 0;
    this.total = 0;
    this.shifted = 0;
    this.grain.reset();
  }

  /**
   * First frame a resume at `resumeIndex` must feed through upscale() (after seek(thatIndex)) for the state to
   * equal an uninterrupted run's: the last forced refresh at or before the frame before the resume point.
   */
  primeStart(resumeIndex: number): number {
    const k = this.opts.refreshEvery;
    if (resumeIndex <= 0) return 0;
    return k > 0 ? Math.floor((resumeIndex - 1) / k) * k : 0;
  }

  async upscale(frame: Uint8Array, width: number, height: number): Promise<Buffer> {
    if (frame.length !== width * height * 3) {
      throw new RangeError(
        `reuse: frame has ${frame.length} bytes, expected ${width * height * 3} (${width}x${height})`,
      );
    }
    const index = this.next++;
    const t = this.opts.tile;
    const cols = Math.ceil(width / t);
    const rows = Math.ceil(height / t);
    const luma = frameLuma(frame, width * height);
    const whole = this.wholeFrameReason(index, width, height, luma);
    if (whole) return this.runWhole(frame, width, height, luma, index, cols * rows, whole);

    const tileMeasures = new TileMeasures(frame, this.ref as Uint8Array, { width, height, tile: t });
    const levels = tileMeasures.levels();
    const changed = new Uint8Array(cols * rows);
    for (let i = 0; i < changed.length; i++) if (levels[i] > this.opts.threshold) changed[i] = 1;
    // The flow's shift per tile, found once for the grain measures and the shift search.
    const tileShifts = this.motion && new TileShifts(() => this.flowTo(luma), { width, height, tile: t });
    const measures = tileShifts && this.grain.engaged(levels) ? tileMeasures.grain(levels, tileShifts) : undefined;
    const still = measures && this.grain.still(measures);
    const grain = still ? { still, levels } : undefined;
    const at = { width, height, index, grain, moved: measures?.moved, measures: tileMeasures };
    const found = tileShifts ? this.findShifts(tileShifts, at, changed) : [];
    const spans = groupChangedTiles(changed, cols, rows);
    // A rectangle of changed tiles is recomputed whole, shifted tiles inside it included.
    const inSpan = new Uint8Array(cols * rows);
    for (const s of spans)
      for (let r = s.r; r < s.r + s.rows; r++) inSpan.fill(1, r * cols + s.c, r * cols + s.c + s.cols);
    const shifts = found.filter((f) => !inSpan[f.tile]);
    const padded = spans.reduce((a, s) => a + this.paddedArea(s, width, height), 0);
    if (padded > this.opts.wholeFrameAbove * width * height) {
      return this.runWhole(frame, width, height, luma, index, cols * rows, 'too-many-changes');
    }
    const out = Buffer.allocUnsafeSlow(width * height * this.scale ** 2 * 3);
    out.set(this.prevOut as Buffer);
    this.applyShifts(shifts, width, out);
    let recomputed = 0;
    for (const s of spans) {
      await this.runSpan(frame, width, height, s, out, index);
      recomputed += s.cols * s.rows;
    }
    this.keepRuns(out, found, spans, cols);
    this.prevLuma = luma;
    this.prevOut = out;
    this.count(cols * rows, cols * rows - recomputed, 'tiles');
    this.lastShiftedTiles = shifts.length;
    this.shifted += shifts.length;
    return out;
  }

  /**
   * Motion-compensated reuse: for each changed tile, the whole-pixel shift the low-res flow suggests (its median
   * over the tile, rounded), accepted only if the tile matches the shifted reference input within the threshold
   * times shiftTolerance (against the input its output was made from, so drift cannot pile up) and the shifted
   * output is at most shiftMaxAge frames old. Accepted tiles are cleared from `changed`. A changed tile that
   * `grain` (GrainGate.still) marks as within a noisy camera's grain is reused in place when the flow says it stayed
   * put, or when the flow's shift matches it no better than GRAIN_MOVED_GAIN× its change in place (grain makes the
   * flow wander on still tiles; a tile that really moved matches its shift far better).
   */
  private findShifts(
    tileShifts: TileShifts,
    at: {
      width: number;
      height: number;
      index: number;
      grain: { still: Uint8Array; levels: Float32Array } | undefined;
      /** tileChange at the flow's shift where the grain measures computed it (NaN elsewhere). */
      moved: Float64Array | undefined;
      /** The frame's measures against the reference (tileChange at a shift where `moved` has none). */
      measures: TileMeasures;
    },
    changed: Uint8Array,
  ) {
    const { width, height, index, grain } = at;
    const cols = Math.ceil(width / this.opts.tile);
    const shifts: TileShift[] = [];
    for (let i = 0; i < changed.length; i++) {
      if (!changed[i]) continue;
      const box = tileShifts.box(i);
      const { dx, dy } = tileShifts.at(i);
      if (dx === 0 && dy === 0) {
        if (grain?.still[i]) changed[i] = 0;
        continue;
      }
      if (box.x + dx < 0 || box.y + dy < 0 || box.x + box.w + dx > width || box.y + box.h + dy > height) continue;
      const measured = at.moved?.[i] ?? Number.NaN;
      const moved = Number.isNaN(measured) ? at.measures.change(box, dx, dy) : measured;
      // Grain makes the flow wander on still tiles: still (in place) unless the shift matches clearly better.
      const still = !!grain?.still[i] && moved * GRAIN_MOVED_GAIN >= grain.levels[i];
      const source = this.oldestSource({ ...box, x: box.x + dx, y: box.y + dy }, cols);
      if (moved > this.opts.threshold * this.opts.shiftTolerance || index - source > this.opts.shiftMaxAge) {
        if (still) changed[i] = 0;
        continue;
      }
      changed[i] = 0;
      shifts.push({ tile: i, box, dx, dy, source });
    }
    return shifts;
  }

  /** The backward flow from the previous frame's luma to `luma` (computed once per pair: MotionEstimator's memo). */
  private flowTo(luma: Uint8Array) {
    return (this.motion as MotionEstimator).flow(luma, this.prevLuma as Uint8Array, this.width, this.height);
  }

  /**
   * Moves the accepted tiles: output from the previous output, reference input from the previous reference (so the
   * drift guard keeps comparing with the input the output was made from), source = the oldest tile it overlaps.
   */
  private applyShifts(shifts: TileShift[], width: number, out: Buffer): void {
    if (shifts.length === 0) return;
    const sc = this.scale;
    const prevOut = this.prevOut as Buffer;
    const oldRef = this.ref as Uint8Array;
    const ref = new Uint8Array(oldRef);
    const sources = this.sources.slice();
    for (const { tile, source } of shifts) sources[tile] = source;
    // Each copy reads the previous output and reference and writes the new ones: a row's neighbouring tiles with
    // the same shift are copied as one rectangle, the same bytes.
    for (const { box, dx, dy } of sameShiftRuns(shifts, Math.ceil(width / this.opts.tile))) {
      copyRect(
        prevOut,
        out,
        width * sc,
        { x: box.x * sc, y: box.y * sc, w: box.w * sc, h: box.h * sc },
        dx * sc,
        dy * sc,
      );
      copyRect(oldRef, ref, width, box, dx, dy);
    }
    this.ref = ref;
    this.sources = sources;
  }

  /** Records which tiles of `out` are the previous output's bytes in place: all but the moved and recomputed ones. */
  private keepRuns(out: Buffer, moved: TileShift[], spans: TileSpan[], cols: number): void {
    const before = this.runs.length === this.sources.length ? this.runs : new Uint8Array(this.sources.length);
    const runs = new Uint8Array(before.length);
    for (let i = 0; i < runs.length; i++) runs[i] = before[i] < 255 ? before[i] + 1 : 255;
    for (const f of moved) runs[f.tile] = 0;
    for (const s of spans)
      for (let r = s.r; r < s.r + s.rows; r++) runs.fill(0, r * cols + s.c, r * cols + s.c + s.cols);
    this.unchanged.set(out, { prev: this.prevOut as Buffer, runs, tile: this.opts.tile, cols });
    this.runs = runs;
  }

  /** The oldest frame index among the tiles a rectangle of the frame overlaps. */
  private oldestSource(r: TileBox, cols: number): number {
    const t = this.opts.tile;
    let oldest = Number.MAX_SAFE_INTEGER;
    for (let row = Math.floor(r.y / t); row <= Math.floor((r.y + r.h - 1) / t); row++)
      for (let c = Math.floor(r.x / t); c <= Math.floor((r.x + r.w - 1) / t); c++)
        oldest = Math.min(oldest, this.sources[row * cols + c]);
    return oldest;
  }

  private wholeFrameReason(index: number, width: number, height: number, luma: Uint8Array): ReuseDecision | undefined {
    if (!this.ref || !this.prevLuma || !this.prevOut) return 'first';
    if (width !== this.width || height !== this.height) return 'size-change';
    const k = this.opts.refreshEvery;
    if (k > 0 && index % k === 0) return 'refresh';
    if (frameSceneCut(luma, this.prevLuma)) return 'scene-cut';
    return undefined;
  }

  private async runWhole(
    frame: Uint8Array,
    width: number,
    height: number,
    luma: Uint8Array,
    index: number,
    tiles: number,
    why: ReuseDecision,
  ): Promise<Buffer> {
    const out = await this.inner.upscale(frame, width, height);
    this.width = width;
    this.height = height;
    this.ref = new Uint8Array(frame);
    this.prevLuma = luma;
    this.prevOut = out;
    this.sources = new Int32Array(tiles).fill(index);
    this.runs = new Uint8Array(tiles);
    if (why !== 'too-many-changes') this.grain.reset();
    this.unchanged.delete(out);
    this.count(tiles, 0, why);
    return out;
  }

  private count(tiles: number, reused: number, why: ReuseDecision): void {
    this.total += tiles;
    this.reused += reused;
    this.lastReused = reused;
    this.lastShiftedTiles = 0;
    this.decision = why;
  }

  /** The span in pixels, and the same grown by `pad` (clipped to the frame). */
  private rects(s: TileSpan, width: number, height: number) {
    const t = this.opts.tile;
    const x = s.c * t;
    const y = s.r * t;
    const w = Math.min(s.cols * t, width - x);
    const h = Math.min(s.rows * t, height - y);
    const px = Math.max(0, x - this.opts.pad);
    const py = Math.max(0, y - this.opts.pad);
    const pw = Math.min(width, x + w + this.opts.pad) - px;
    const ph = Math.min(height, y + h + this.opts.pad) - py;
    return { x, y, w, h, px, py, pw, ph };
  }

  private paddedArea(s: TileSpan, width: number, height: number): number {
    const r = this.rects(s, width, height);
    return r.pw * r.ph;
  }

  private async runSpan(
    frame: Uint8Array,
    width: number,
    height: number,
    s: TileSpan,
    out: Buffer,
    index: number,
  ): Promise<void> {
    const r = this.rects(s, width, height);
    const crop = new Uint8Array(r.pw * r.ph * 3);
    for (let y = 0; y < r.ph; y++) {
      const from = ((r.py + y) * width + r.px) * 3;
      crop.set(frame.subarray(from, from + r.pw * 3), y * r.pw * 3);
    }
    const up = await this.inner.upscale(crop, r.pw, r.ph);
    const sc = this.scale;
    if (up.length !== r.pw * sc * r.ph * sc * 3) {
      throw new Error(`reuse: inner upscaler returned ${up.length} bytes for a ${r.pw}x${r.ph} area at ×${sc}`);
    }
    const outStride = width * sc * 3;
    const upStride = r.pw * sc * 3;
    const rowBytes = r.w * sc * 3;
    for (let y = 0; y < r.h * sc; y++) {
      const from = ((r.y - r.py) * sc + y) * upStride + (r.x - r.px) * sc * 3;
      out.set(up.subarray(from, from + rowBytes), (r.y * sc + y) * outStride + r.x * sc * 3);
    }
    const ref = this.ref as Uint8Array;
    for (let y = r.y; y < r.y + r.h; y++) {
      const from = (y * width + r.x) * 3;
      ref.set(frame.subarray(from, from + r.w * 3), from);
    }
    const cols = Math.ceil(width / this.opts.tile);
    for (let rr = s.r; rr < s.r + s.rows; rr++) this.sources.fill(index, rr * cols + s.c, rr * cols + s.c + s.cols);
  }
}
