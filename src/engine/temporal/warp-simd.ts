import { temporalMemory, temporalModule } from './blend-simd';
import type { MaskThresholds } from './change-mask';
import type { MotionLink } from './motion';
import { FLOW_SLACK, type PastFrame, type WarpedPast, warpedPasts } from './motion-blend';

/**
 * The motion blend's low-res plan (motion-blend.ts warpedPasts()) in WebAssembly (wasm/temporal.ts warpedPasts): the
 * same arithmetic, scalar f64 with each value rounded where the typed arrays store it, so the same numbers (issue
 * 33: the warp worker's per-input-pixel work). The frame's planes are copied into the module's memory for each
 * call and the weights and offsets copied out. Where the module is not available, or its memory cannot grow, the
 * TypeScript function computes it, with the same result.
 */
const PAGE = 65536;
/** Address tables (7 × 16 past frames × 4 bytes) and the regions (16 × 16 bytes) at the start of the memory. */
const TABLES = 1024;
const MAX_PASTS = 16;

type Kernel = (...args: number[]) => void;

export class SimdWarp {
  private readonly memory = temporalMemory();
  private readonly kernel: Kernel;
  /** Why TypeScript took over, if it did. */
  failure: string | undefined;
  /** Plans made here. */
  runs = 0;

  private constructor(module: WebAssembly.Module) {
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.kernel = instance.exports.warpedPasts as Kernel;
  }

  /** One for this thread, or undefined where the module is not available. */
  static create(): SimdWarp | undefined {
    const module = temporalModule();
    return module ? new SimdWarp(module) : undefined;
  }

  /** warpedPasts() of these arguments. */
  warpedPasts(
    cur: Uint8Array,
    pasts: readonly PastFrame[],
    links: readonly MotionLink[],
    size: { width: number; height: number; scale: number },
    t: MaskThresholds & { decay: number },
  ): WarpedPast[] {
    const m = Math.min(pasts.length, links.length);
    if (this.failure !== undefined || m === 0 || m > MAX_PASTS) return warpedPasts(cur, pasts, links, size, t);
    try {
      return this.run(cur, pasts.slice(0, m), links.slice(0, m), size, t);
    } catch (err) {
      this.failure = err instanceof Error ? err.message : String(err);
      return warpedPasts(cur, pasts, links, size, t);
    }
  }

  private run(
    cur: Uint8Array,
    pasts: readonly PastFrame[],
    links: readonly MotionLink[],
    size: { width: number; height: number; scale: number },
    t: MaskThresholds & { decay: number },
  ): WarpedPast[] {
    const { width: w, height: h, scale } = size;
    const n = w * h;
    const m = pasts.length;
    // Byte planes (cur, m lumas, m consistency masks), f32/i32 planes (m u, v, weights, ox, oy), the work area.
    const bytesAt = TABLES;
    const planesAt = Math.ceil((bytesAt + (1 + 2 * m) * n) / 16) * 16;
    const workAt = planesAt + 5 * m * n * 4;
    this.ensure(workAt + 9 * n * 4 + 4 * n);
    const mem = this.memory.buffer;
    const u8 = new Uint8Array(mem);
    const table = new Uint32Array(mem, 0, 7 * MAX_PASTS);
    const regions = new Int32Array(mem, 7 * MAX_PASTS * 4, 4 * MAX_PASTS);
    u8.set(cur, bytesAt);
    const plane = (kind: number, k: number) => planesAt + (kind * m + k) * n * 4;
    for (let k = 0; k < m; k++) {
      const luma = bytesAt + (1 + k) * n;
      const consistent = bytesAt + (1 + m + k) * n;
      u8.set(pasts[k].luma, luma);
      u8.set(links[k].consistent, consistent);
      new Float32Array(mem, plane(0, k), n).set(links[k].back.u);
      new Float32Array(mem, plane(1, k), n).set(links[k].back.v);
      // Tables: lumas, u, v, consistency, weights, ox, oy.
      [luma, plane(0, k), plane(1, k), consistent, plane(2, k), plane(3, k), plane(4, k)].forEach((at, j) => {
        table[j * MAX_PASTS + k] = at;
      });
      const r = links[k].region;
      regions.set(r ? [r.x, r.y, r.w, r.h] : [0, 0, 0, 0], 4 * k);
    }
    const tableAt = (j: number) => j * MAX_PASTS * 4;
    const [lumas, us, vs, cons, weights, oxs, oys] = [0, 1, 2, 3, 4, 5, 6].map(tableAt);
    const thresholds = [t.staticBelow, t.movingAbove, t.decay, FLOW_SLACK];
    this.kernel(
      bytesAt,
      w,
      h,
      scale,
      m,
      lumas,
      us,
      vs,
      cons,
      regions.byteOffset,
      ...thresholds,
      weights,
      oxs,
      oys,
      workAt,
    );
    this.runs++;
    // Copies on buffers of their own (the memory is shared: a slice of it would be too, and could not be transferred).
    return pasts.map((p, k) => ({
      weight: new Float32Array(mem, plane(2, k), n).slice(),
      ox: new Int32Array(mem, plane(3, k), n).slice(),
      oy: new Int32Array(mem, plane(4, k), n).slice(),
      output: p.output,
    }));
  }

  /** The memory grown to at least `bytes` (a RangeError where it cannot). */
  private ensure(bytes: number): void {
    const pages = Math.ceil(bytes / PAGE);
    const have = this.memory.buffer.byteLength / PAGE;
    if (pages > have) this.memory.grow(pages - have);
  }
}

let shared: SimdWarp | null | undefined;

/** warpedPasts() in this thread's WebAssembly module where there is one, else in TypeScript: the same numbers. */
export function warpedPastsHere(
  cur: Uint8Array,
  pasts: readonly PastFrame[],
  links: readonly MotionLink[],
  size: { width: number; height: number; scale: number },
  t: MaskThresholds & { decay: number },
): WarpedPast[] {
  if (shared === undefined) shared = SimdWarp.create() ?? null;
  return shared ? shared.warpedPasts(cur, pasts, links, size, t) : warpedPasts(cur, pasts, links, size, t);
}
