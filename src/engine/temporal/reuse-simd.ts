import { isSceneCut, lumaOf, sceneCutOf } from './change-mask';
import { type GrainMeasures, grainMeasures } from './grain-gate';
import { REUSE_WASM } from './reuse-wasm';
import { type TileBox, type TileShifts, tileChange, UNSOLVED_SHIFT } from './tile-change';

/**
 * The reuse test's per-tile measures (tile-change.ts tileChange(), tileWindowChange(), TileShifts' medians and
 * grain-gate.ts grainMeasures()) and the frames' luma planes and scene-cut test (change-mask.ts lumaOf(),
 * isSceneCut(), which frame-luma.ts computes once per frame) in WebAssembly (wasm/reuse.ts, issue 33: the reuse
 * bookkeeping on the engine's main thread): whole-number sums in SIMD, every division and comparison in f64 in the
 * TypeScript's order, so the same numbers to the bit. Where the module is not available (`HUAJU4K_BLEND_SIMD=0`, no
 * SIMD) or its memory cannot grow, the TypeScript computes them, with the same result.
 */
const PAGE = 65536;
/** wasm32's limit: 4 GiB. */
const MAX_PAGES = 65536;
/** The memory's first bytes stay unused (address 0 is no plane). */
const BASE = 64;
/** Bytes after each frame that a vector may read (wasm/reuse.ts reads up to 4 past a row's last pixel). */
const PAD = 16;
/** The largest tile side the module measures (its sums are i32; larger tiles are measured in TypeScript). */
const MAX_TILE = 1024;

type Kernel = (...args: number[]) => number;
type KernelName = 'tileChanges' | 'tileChangeAt' | 'tileMedians' | 'grainMeasures' | 'lumaPlane' | 'sceneCutSums';

/** Where the planes of one frame size and tile size lie in the memory (byte addresses). */
interface Layout {
  width: number;
  height: number;
  tile: number;
  tiles: number;
  cur: number;
  ref: number;
  u: number;
  v: number;
  levels: number;
  windows: number;
  residual: number;
  residualWindows: number;
  moved: number;
  dxs: number;
  dys: number;
  scratch: number;
  cells: number;
}

let compiled: WebAssembly.Module | null | undefined;

/** wasm/reuse.ts compiled, once per thread; null where it is not available or `HUAJU4K_BLEND_SIMD=0`. */
export function reuseModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    compiled =
      process.env.HUAJU4K_BLEND_SIMD === '0' ? null : new WebAssembly.Module(Buffer.from(REUSE_WASM, 'base64'));
  } catch {
    compiled = null;
  }
  return compiled;
}

const align = (n: number) => Math.ceil(n / 16) * 16;

/** The module's instance and memory, with the frame and reference it last loaded. */
export class SimdReuse {
  private readonly memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES });
  private readonly k: Record<KernelName, Kernel>;
  private layout: Layout | undefined;
  /** Counts the loads: a TileMeasures whose load is not the last one loads again. */
  private loads = 0;

  private constructor(module: WebAssembly.Module) {
    const e = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports;
    const names: KernelName[] = [
      'tileChanges',
      'tileChangeAt',
      'tileMedians',
      'grainMeasures',
      'lumaPlane',
      'sceneCutSums',
    ];
    this.k = Object.fromEntries(names.map((name) => [name, e[name] as Kernel])) as Record<KernelName, Kernel>;
  }

  /** One for this thread, or undefined where the module is not available. */
  static create(): SimdReuse | undefined {
    const module = reuseModule();
    return module ? new SimdReuse(module) : undefined;
  }

  /** Copies `frame` and `ref` (RGB24, width×height) in; the number of this load. Throws where memory cannot grow. */
  load(frame: Uint8Array, ref: Uint8Array, width: number, height: number, tile: number): number {
    const l = this.layoutFor(width, height, tile);
    const mem = new Uint8Array(this.memory.buffer);
    mem.set(frame, l.cur);
    mem.set(ref, l.ref);
    return ++this.loads;
  }

  /** Whether load number `n` is still in the memory. */
  holds(n: number): boolean {
    return n > 0 && n === this.loads;
  }

  /** tileChange() in place of every tile of the loaded frame (row-major). */
  levels(): Float32Array {
    const l = this.layout as Layout;
    this.k.tileChanges(l.cur, l.ref, l.width, l.height, l.tile, l.levels);
    return new Float32Array(this.memory.buffer.slice(l.levels, l.levels + l.tiles * 4));
  }

  /** tileChange() of one tile of the loaded frame at a shift (the box moved by (dx, dy) lies inside the frame). */
  change(box: TileBox, dx: number, dy: number): number {
    const l = this.layout as Layout;
    return this.k.tileChangeAt(l.cur, l.ref, l.width, box.x, box.y, box.w, box.h, dx, dy);
  }

  /**
   * grainMeasures() of the loaded frame against its reference, `levels` its tileChange() in place; every tile's
   * shift found here (TileShifts' medians; the TypeScript's where the module leaves one to it) and given to `shifts`.
   */
  grainMeasures(levels: Float32Array, shifts: TileShifts): GrainMeasures {
    const l = this.layout as Layout;
    const field = shifts.flowField();
    const n = l.width * l.height;
    new Float32Array(this.memory.buffer, l.u, n).set(field.u);
    new Float32Array(this.memory.buffer, l.v, n).set(field.v);
    this.k.tileMedians(l.u, l.v, l.width, l.height, l.tile, l.dxs, l.dys, l.scratch);
    const dx = new Int32Array(this.memory.buffer, l.dxs, l.tiles);
    const dy = new Int32Array(this.memory.buffer, l.dys, l.tiles);
    shifts.take(dx, dy);
    for (let i = 0; i < l.tiles; i++)
      if (dx[i] === UNSOLVED_SHIFT || dy[i] === UNSOLVED_SHIFT) ({ dx: dx[i], dy: dy[i] } = shifts.at(i));
    new Float32Array(this.memory.buffer, l.levels, l.tiles).set(levels);
    this.k.grainMeasures(
      l.cur,
      l.ref,
      l.width,
      l.height,
      l.tile,
      l.dxs,
      l.dys,
      l.levels,
      l.windows,
      l.moved,
      l.residual,
      l.residualWindows,
      l.cells,
    );
    const f32 = (at: number) => new Float32Array(this.memory.buffer.slice(at, at + l.tiles * 4));
    return {
      windows: f32(l.windows),
      levels,
      residual: f32(l.residual),
      residualWindows: f32(l.residualWindows),
      moved: new Float64Array(this.memory.buffer.slice(l.moved, l.moved + l.tiles * 8)),
    };
  }

  /** lumaOf(rgb, pixels, out), in the memory past the layout (the loaded frame stays). */
  luma(rgb: Uint8Array, pixels: number, out: Uint8Array): Uint8Array {
    if (rgb.length !== pixels * 3) return lumaOf(rgb, pixels, out);
    const at = this.room(pixels * 4 + PAD);
    new Uint8Array(this.memory.buffer).set(rgb, at);
    this.k.lumaPlane(at, pixels, at + pixels * 3 + PAD);
    out.set(new Uint8Array(this.memory.buffer, at + pixels * 3 + PAD, pixels));
    return out;
  }

  /** isSceneCut(cur, prev), in the memory past the layout. */
  sceneCut(cur: Uint8Array, prev: Uint8Array): boolean {
    const n = cur.length;
    if (n === 0 || prev.length !== n) return isSceneCut(cur, prev);
    const { sum, hc, hp } = this.sceneCutSums(cur, prev);
    return sceneCutOf(sum, hc, hp, n);
  }

  /** isSceneCut()'s sums of two planes of the same length: Σ |cur − prev| and the histograms of cur >> 4, prev >> 4. */
  sceneCutSums(cur: Uint8Array, prev: Uint8Array): { sum: number; hc: Int32Array; hp: Int32Array } {
    const n = cur.length;
    const hist = this.room(128 + align(n) * 2);
    const at = hist + 128;
    const mem = new Uint8Array(this.memory.buffer);
    mem.set(cur, at);
    mem.set(prev.subarray(0, n), at + align(n));
    const sum = this.k.sceneCutSums(at, at + align(n), n, hist);
    const h = new Int32Array(this.memory.buffer.slice(hist, hist + 128));
    return { sum, hc: h.subarray(0, 16), hp: h.subarray(16) };
  }

  /** The address of `bytes` past the layout (the memory grown to hold them). */
  private room(bytes: number): number {
    const l = this.layout;
    const at = l ? align(l.cells + Math.ceil(l.tile / 2) ** 2 * 7 + 2 * PAD) : BASE;
    this.grow(at + bytes);
    return at;
  }

  private grow(bytes: number): void {
    const pages = Math.ceil(bytes / PAGE);
    const have = this.memory.buffer.byteLength / PAGE;
    if (pages > have) this.memory.grow(pages - have);
  }

  /** The layout for this size, the memory grown to hold it. */
  private layoutFor(width: number, height: number, tile: number): Layout {
    const had = this.layout;
    if (had && had.width === width && had.height === height && had.tile === tile) return had;
    const tiles = Math.ceil(width / tile) * Math.ceil(height / tile);
    const cells = Math.ceil(tile / 2) ** 2;
    let at = BASE;
    const take = (bytes: number) => {
      const start = at;
      at = align(at + bytes);
      return start;
    };
    const frame = width * height * 3 + PAD;
    const l: Layout = {
      width,
      height,
      tile,
      tiles,
      cur: take(frame),
      ref: take(frame),
      u: take(width * height * 4),
      v: take(width * height * 4),
      levels: take(tiles * 4),
      windows: take(tiles * 4),
      residual: take(tiles * 4),
      residualWindows: take(tiles * 4),
      moved: take(tiles * 8),
      dxs: take(tiles * 4),
      dys: take(tiles * 4),
      // tileMedians(): a tile's rounded values and the histogram; grainMeasures(): the cells' sums and counts.
      scratch: take(tile * tile * 4 + 64 * 4),
      cells: take(cells * 7 + 2 * PAD),
    };
    this.grow(at);
    this.layout = l;
    return l;
  }
}

let shared: SimdReuse | null | undefined;

/** This thread's module, or undefined. */
function sharedReuse(): SimdReuse | undefined {
  if (shared === undefined) shared = SimdReuse.create() ?? null;
  return shared ?? undefined;
}

/** The same, for the planes' kernels, or undefined where its memory could not grow once. */
function planeKernels(): SimdReuse | undefined {
  return planesFailed ? undefined : sharedReuse();
}
let planesFailed = false;

/** lumaOf() in this thread's WebAssembly module where there is one, else in TypeScript: the same bytes. */
export function lumaHere(rgb: Uint8Array, pixels: number, out: Uint8Array = new Uint8Array(pixels)): Uint8Array {
  const simd = planeKernels();
  if (!simd) return lumaOf(rgb, pixels, out);
  try {
    return simd.luma(rgb, pixels, out);
  } catch {
    planesFailed = true;
    return lumaOf(rgb, pixels, out);
  }
}

/** isSceneCut() in this thread's WebAssembly module where there is one, else in TypeScript: the same answer. */
export function sceneCutHere(cur: Uint8Array, prev: Uint8Array): boolean {
  const simd = planeKernels();
  if (!simd) return isSceneCut(cur, prev);
  try {
    return simd.sceneCut(cur, prev);
  } catch {
    planesFailed = true;
    return isSceneCut(cur, prev);
  }
}

/**
 * The reuse test's measures of one frame against the inputs its tiles' outputs were made from (`ref`), tiles of
 * `tile` pixels: in this thread's WebAssembly module where there is one, else in TypeScript; the same numbers.
 * `frame` and `ref` must not change while it is used (the module measures the copies it took).
 */
export class TileMeasures {
  private readonly simd: SimdReuse | undefined;
  private loaded = 0;
  /** Why the TypeScript took over, if it did. */
  failure: string | undefined;

  constructor(
    private readonly frame: Uint8Array,
    private readonly ref: Uint8Array,
    private readonly size: { width: number; height: number; tile: number },
  ) {
    this.simd = size.tile <= MAX_TILE && size.width * size.height > 0 ? sharedReuse() : undefined;
  }

  /** tileChange() in place of every tile (row-major, the last row and column clipped). */
  levels(): Float32Array {
    const simd = this.ready();
    return simd ? simd.levels() : this.levelsHere();
  }

  /** tileChange() of one tile at a shift (the box moved by (dx, dy) must lie inside the frame). */
  change(box: TileBox, dx: number, dy: number): number {
    const simd = this.ready();
    return simd ? simd.change(box, dx, dy) : tileChange(this.frame, this.ref, this.size.width, box, dx, dy);
  }

  /** grainMeasures() with these levels and the flow's shifts (every tile's is found, and kept in `shifts`). */
  grain(levels: Float32Array, shifts: TileShifts): GrainMeasures {
    const simd = this.ready();
    const { width, height } = this.size;
    return simd
      ? simd.grainMeasures(levels, shifts)
      : grainMeasures(this.frame, this.ref, { width, height }, levels, shifts);
  }

  /** The module with this frame loaded, or undefined (not available, or its memory could not grow). */
  private ready(): SimdReuse | undefined {
    const simd = this.simd;
    if (!simd || this.failure !== undefined) return undefined;
    if (simd.holds(this.loaded)) return simd;
    try {
      const { width, height, tile } = this.size;
      this.loaded = simd.load(this.frame, this.ref, width, height, tile);
      return simd;
    } catch (err) {
      this.failure = err instanceof Error ? err.message : String(err);
      return undefined;
    }
  }

  private levelsHere(): Float32Array {
    const { width, height, tile: t } = this.size;
    const cols = Math.ceil(width / t);
    const levels = new Float32Array(cols * Math.ceil(height / t));
    for (let y = 0, i = 0; y < height; y += t)
      for (let x = 0; x < width; x += t, i++)
        levels[i] = tileChange(this.frame, this.ref, width, {
          x,
          y,
          w: Math.min(t, width - x),
          h: Math.min(t, height - y),
        });
    return levels;
  }
}
