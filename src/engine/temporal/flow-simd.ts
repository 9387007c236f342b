import { sharedBytes } from '../thread-worker';
import { FLOW_WASM } from './flow-wasm';
import type { Bounds, Rect } from './motion';
import {
  type FlowField,
  type FlowOptions,
  finestLevel,
  flowOptions,
  levelSizes,
  opticalFlow,
  PYRAMID_MAX_BYTES,
} from './optical-flow';

/**
 * The dense optical flow (optical-flow.ts opticalFlow()) in WebAssembly (wasm/flow.ts): the same arithmetic, f64
 * with every value rounded to f32 where the typed arrays store it, so the same numbers to the bit (issue 33: the flow
 * worker's per-pixel work). The pyramids and templates live in the module's memory, remembered as opticalFlow()
 * remembers them (pyramidOf(), templateOf(): the last two planes, found again by their contents), so the second flow
 * of a pair builds nothing the first built. Where the module is not available (`HUAJU4K_BLEND_SIMD=0`, no SIMD), the
 * options are not whole numbers, or the memory cannot grow, opticalFlow() computes it, with the same result.
 */
const PAGE = 65536;
/** wasm32's limit: 4 GiB. */
const MAX_PAGES = 65536;
/** The memory's first bytes stay unused (address 0 is no plane). */
const BASE = 64;
const PYRAMIDS_KEPT = 2;

type Kernel = (...args: number[]) => number;
type Size = { w: number; h: number };
type KernelName =
  | 'lumaToPlane'
  | 'downsample'
  | 'templateLevel'
  | 'refineLevel'
  | 'upsampleFlow'
  | 'consistentMask'
  | 'changedBlocks';

/** A byte range of the memory. */
interface Block {
  at: number;
  bytes: number;
}

/** A pyramid's template in the memory: per level (coarsest first) its five planes (gx, gy, sxx, sxy, syy) together. */
interface Template extends Block {
  radius: number;
  /** Each level's first plane; `filled` levels are made. */
  levels: number[];
  filled: number;
}

/** A plane's pyramid in the memory: each level's f32 plane (coarsest first), then the luma bytes it was made from. */
interface Pyramid extends Block {
  luma: Uint8Array;
  width: number;
  height: number;
  minSide: number;
  sizes: Size[];
  levels: number[];
  template?: Template;
}

let compiled: WebAssembly.Module | null | undefined;

/** wasm/flow.ts compiled, once per thread; null where it is not available or `HUAJU4K_BLEND_SIMD=0`. */
export function flowModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    compiled = process.env.HUAJU4K_BLEND_SIMD === '0' ? null : new WebAssembly.Module(Buffer.from(FLOW_WASM, 'base64'));
  } catch {
    compiled = null;
  }
  return compiled;
}

const align = (n: number) => Math.ceil(n / 16) * 16;

export class SimdFlow {
  private readonly memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES });
  private readonly k: Record<KernelName, Kernel>;
  /** The last planes' pyramids, most recently used first. */
  private pyramids: Pyramid[] = [];
  /** Why opticalFlow() took over, if it did. */
  failure: string | undefined;
  /** Flows computed here; pyramids and template levels built here. */
  readonly counts = { flows: 0, pyramids: 0, templates: 0 };

  private constructor(module: WebAssembly.Module) {
    const e = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports;
    const kernel = (name: string) => e[name] as Kernel;
    this.k = {
      lumaToPlane: kernel('lumaToPlane'),
      downsample: kernel('downsample'),
      templateLevel: kernel('templateLevel'),
      refineLevel: kernel('refineLevel'),
      upsampleFlow: kernel('upsampleFlow'),
      consistentMask: kernel('consistentMask'),
      changedBlocks: kernel('changedBlocks'),
    };
  }

  /** One for this thread, or undefined where the module is not available. */
  static create(): SimdFlow | undefined {
    const module = flowModule();
    return module ? new SimdFlow(module) : undefined;
  }

  /** opticalFlow() of these arguments. */
  flow(from: Uint8Array, to: Uint8Array, width: number, height: number, opts: FlowOptions = {}): FlowField {
    const o = flowOptions(from, to, width, height, opts);
    const whole = Number.isInteger(o.radius) && o.radius >= 0 && Number.isInteger(o.iterations);
    if (this.failure !== undefined || !whole || width * height === 0) return opticalFlow(from, to, width, height, opts);
    try {
      return this.run(from, to, width, height, o);
    } catch (err) {
      this.fail(err);
      return opticalFlow(from, to, width, height, opts);
    }
  }

  private run(from: Uint8Array, to: Uint8Array, width: number, height: number, o: Required<FlowOptions>): FlowField {
    const pf = this.pyramidOf(from, width, height, o.minSide, []);
    const pt = this.pyramidOf(to, width, height, o.minSide, [pf, ...(pf.template ? [pf.template] : [])]);
    const { sizes } = pf;
    const last = finestLevel(sizes, o.finestPixels);
    const template = this.templateOf(pf, o.radius, last + 1, [pf, pt]);
    const n = width * height;
    const refined = sizes[last].w * sizes[last].h;
    // u, v and the upsampled u, v (f32, n each); then refineLevel()'s five f32 planes and its w f64 column sums
    // (templateLevel()'s scratch too), or upsampleFlow()'s 5w f64 and w i32.
    const scratchBytes = Math.max(5 * refined * 4 + sizes[last].w * 8, 44 * width);
    const work = this.alloc(4 * n * 4 + scratchBytes, [pf, pt, template]);
    const scratch = work + 4 * n * 4;
    this.fillTemplate(pf, template, last + 1, scratch);
    let [u, v, nu, nv] = [0, 1, 2, 3].map((k) => work + k * n * 4);
    // The coarsest level starts from no motion.
    const coarsest = sizes[0].w * sizes[0].h;
    new Float32Array(this.memory.buffer, u, coarsest).fill(0);
    new Float32Array(this.memory.buffer, v, coarsest).fill(0);
    for (let l = 0; l <= last; l++) {
      const { w, h } = sizes[l];
      if (l > 0) {
        this.k.upsampleFlow(u, v, sizes[l - 1].w, sizes[l - 1].h, w, h, nu, nv, scratch);
        [u, v, nu, nv] = [nu, nv, u, v];
      }
      const planes = [0, 1, 2, 3, 4].map((k) => template.levels[l] + k * w * h * 4);
      this.k.refineLevel(pf.levels[l], pt.levels[l], w, h, u, v, ...planes, o.radius, o.iterations, o.lambda, scratch);
    }
    if (last < sizes.length - 1) {
      this.k.upsampleFlow(u, v, sizes[last].w, sizes[last].h, width, height, nu, nv, scratch);
      [u, v] = [nu, nv];
    }
    this.counts.flows++;
    const mem = this.memory.buffer;
    return {
      width,
      height,
      u: new Float32Array(mem.slice(u, u + n * 4)),
      v: new Float32Array(mem.slice(v, v + n * 4)),
    };
  }

  /**
   * motion.ts typedConsistentMask() of these flows (the pixels of `region` tested, the others 1; no region: all
   * tested), the same bytes; undefined where the module cannot (the caller then runs the TypeScript).
   */
  consistentMask(back: FlowField, fwd: FlowField, region: Rect | undefined): Uint8Array | undefined {
    const { width: w, height: h } = back;
    const n = w * h;
    if (this.failure !== undefined) return undefined;
    const r = region ?? { x: 0, y: 0, w, h };
    try {
      // back's u and v (only the region's rows are read), fwd's u and v, then the mask.
      const at = this.alloc(4 * n * 4 + n, []);
      const [bu, bv, fu, fv] = [0, 1, 2, 3].map((k) => at + k * n * 4);
      const rows = [r.y * w, (r.y + r.h) * w];
      this.floats(bu, n).set(back.u.subarray(rows[0], rows[1]), rows[0]);
      this.floats(bv, n).set(back.v.subarray(rows[0], rows[1]), rows[0]);
      this.floats(fu, n).set(fwd.u);
      this.floats(fv, n).set(fwd.v);
      const ok = at + 4 * n * 4;
      this.k.consistentMask(bu, bv, fu, fv, w, h, r.x, r.y, r.w, r.h, region ? 1 : 0, ok);
      const mask = sharedBytes(n);
      mask.set(new Uint8Array(this.memory.buffer, ok, n));
      return mask;
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  /**
   * motion.ts typedChangedBlocks() of these planes, the same bounds (null: no block changed); undefined where the
   * module cannot.
   */
  changedBlocks(a: Uint8Array, b: Uint8Array, width: number, height: number, level: number): Bounds | null | undefined {
    if (this.failure !== undefined) return undefined;
    const n = width * height;
    try {
      const at = this.alloc(2 * align(n) + align(Math.ceil(width / 8) * 4) + 16, []);
      new Uint8Array(this.memory.buffer, at, n).set(a);
      new Uint8Array(this.memory.buffer, at + align(n), n).set(b);
      const sums = at + 2 * align(n);
      const out = sums + align(Math.ceil(width / 8) * 4);
      const found = this.k.changedBlocks(at, at + align(n), width, height, level, sums, out);
      const [x0, y0, x1, y1] = new Int32Array(this.memory.buffer, out, 4);
      return found ? { x0, y0, x1, y1 } : null;
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  private floats(at: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, n);
  }

  /** The module failed (its memory cannot grow): the TypeScript takes over for the rest of the run. */
  private fail(err: unknown): void {
    this.failure = err instanceof Error ? err.message : String(err);
    this.pyramids = [];
  }

  /** The plane's pyramid: remembered, or built in memory that no remembered one and none of `pinned` uses. */
  private pyramidOf(luma: Uint8Array, width: number, height: number, minSide: number, pinned: Block[]): Pyramid {
    const at = this.pyramids.findIndex(
      (p) =>
        p.width === width &&
        p.height === height &&
        p.minSide === minSide &&
        Buffer.from(p.luma.buffer, p.luma.byteOffset, p.luma.byteLength).equals(luma),
    );
    if (at >= 0) {
      const [hit] = this.pyramids.splice(at, 1);
      this.pyramids.unshift(hit);
      return hit;
    }
    const sizes = levelSizes(width, height, minSide);
    const planes = sizes.map((s) => s.w * s.h * 4);
    // Each level's plane, 16-byte aligned, then the luma.
    const offsets: number[] = [];
    let lumaAt = 0;
    for (const size of planes) {
      offsets.push(lumaAt);
      lumaAt += align(size);
    }
    const start = this.alloc(lumaAt + luma.byteLength, pinned);
    const made: Pyramid = {
      at: start,
      bytes: lumaAt + luma.byteLength,
      levels: offsets.map((o) => start + o),
      luma: luma.slice(),
      width,
      height,
      minSide,
      sizes,
    };
    this.build(made);
    // opticalFlow()'s rule: what would take more than PYRAMID_MAX_BYTES is not kept.
    if (luma.byteLength + 6 * planes.reduce((a, b) => a + b, 0) <= PYRAMID_MAX_BYTES) {
      this.pyramids.unshift(made);
      if (this.pyramids.length > PYRAMIDS_KEPT) this.pyramids.pop();
    }
    return made;
  }

  /** pyramid(): the luma as the finest level, each coarser level downsampled from the next finer one. */
  private build(p: Pyramid): void {
    const lumaAt = p.at + p.bytes - p.luma.byteLength;
    new Uint8Array(this.memory.buffer, lumaAt, p.luma.byteLength).set(p.luma);
    const top = p.levels.length - 1;
    this.k.lumaToPlane(lumaAt, p.luma.byteLength, p.levels[top]);
    for (let l = top - 1; l >= 0; l--)
      this.k.downsample(p.levels[l + 1], p.sizes[l + 1].w, p.sizes[l + 1].h, p.levels[l]);
    this.counts.pyramids++;
  }

  /**
   * templateOf(): the pyramid's template for this radius, with room for its `count` coarsest levels (a new one where
   * the radius differs or it has less room; made in memory that no remembered pyramid, template, or `pinned` uses).
   */
  private templateOf(p: Pyramid, radius: number, count: number, pinned: Block[]): Template {
    if (p.template && p.template.radius === radius && p.template.levels.length >= count) return p.template;
    p.template = undefined;
    const offsets: number[] = [];
    let bytes = 0;
    for (const { w, h } of p.sizes.slice(0, count)) {
      offsets.push(bytes);
      bytes += align(5 * w * h * 4);
    }
    const at = this.alloc(bytes, pinned);
    p.template = { at, bytes, radius, levels: offsets.map((o) => at + o), filled: 0 };
    return p.template;
  }

  /** templateLevel() of the levels of `count` not made yet; `scratch`: refineLevel()'s, sized for level count − 1. */
  private fillTemplate(p: Pyramid, t: Template, count: number, scratch: number): void {
    for (; t.filled < count; t.filled++) {
      const l = t.filled;
      const { w, h } = p.sizes[l];
      const n = w * h;
      const planes = [0, 1, 2, 3, 4].map((k) => t.levels[l] + k * n * 4);
      this.k.templateLevel(p.levels[l], w, h, t.radius, ...planes, scratch + n * 4, scratch, scratch + 2 * n * 4);
      this.counts.templates++;
    }
  }

  /** `bytes` of memory that no remembered pyramid or template and none of `pinned` uses (the lowest such), grown if need be. */
  private alloc(bytes: number, pinned: Block[]): number {
    const kept = this.pyramids.flatMap((p): Block[] => (p.template ? [p, p.template] : [p]));
    const used = [...kept, ...pinned].sort((a, b) => a.at - b.at);
    let at = BASE;
    for (const b of used) {
      if (b.at >= at + bytes) break;
      at = Math.max(at, align(b.at + b.bytes));
    }
    const pages = Math.ceil((at + bytes) / PAGE);
    const have = this.memory.buffer.byteLength / PAGE;
    if (pages > have) this.memory.grow(pages - have);
    return at;
  }
}

let shared: SimdFlow | null | undefined;

/** This thread's flow module (one for the flows, the masks and the regions), or undefined where there is none. */
export function simdFlowHere(): SimdFlow | undefined {
  if (shared === undefined) shared = SimdFlow.create() ?? null;
  return shared ?? undefined;
}

/** opticalFlow() in this thread's WebAssembly module where there is one, else in TypeScript: the same numbers. */
export function opticalFlowHere(
  from: Uint8Array,
  to: Uint8Array,
  width: number,
  height: number,
  opts: FlowOptions = {},
): FlowField {
  const simd = simdFlowHere();
  return simd ? simd.flow(from, to, width, height, opts) : opticalFlow(from, to, width, height, opts);
}
