import { MOTION_MODES } from '../../protocol/cli-options';
import { sharedBytes } from '../thread-worker';
import { opticalFlowHere, simdFlowHere } from './flow-simd';
import type { FlowField, FlowOptions } from './optical-flow';

/** How the temporal parts follow motion: `flow` = optical flow on the low-res frames, `off` = static areas only. */
export { MOTION_MODES };
export type MotionMode = (typeof MOTION_MODES)[number];
export const DEFAULT_MOTION: MotionMode = 'flow';

export function isMotionMode(text: string): text is MotionMode {
  return (MOTION_MODES as readonly string[]).includes(text);
}

/**
 * Version of the flow and of how it is used; part of the checkpoint's pixel parameters, so a checkpoint written by
 * another version of the motion code is not resumed into different pixels.
 */
export const MOTION_VERSION = 'lk-pyr-1';

/** How frame t maps onto frame t−1 at low res: where each pixel came from, and whether that is trustworthy. */
export interface MotionLink {
  /** Backward flow: pixel p of frame t shows what frame t−1 showed at p + back(p). */
  back: FlowField;
  /** 1 where the forward flow from t−1 leads back to p (no occlusion, no disocclusion, not out of frame). */
  consistent: Uint8Array;
  /** Where the flows may be non-zero (flowRegion()); outside it both are zero. Undefined: nothing moved. */
  region: Rect | undefined;
}

export const linkBytes = (l: MotionLink): number => l.back.u.byteLength * 2 + l.consistent.byteLength;

/**
 * Forward/backward consistency (Sundaram, Brox & Keutzer 2010): following the backward flow and then the forward
 * flow from there must return to the start, up to a tolerance that grows with the motion. In this thread's
 * WebAssembly module where there is one (flow-simd.ts), else typedConsistentMask(): the same bytes.
 */
export function consistentMask(back: FlowField, fwd: FlowField, region?: Rect): Uint8Array {
  return simdFlowHere()?.consistentMask(back, fwd, region) ?? typedConsistentMask(back, fwd, region);
}

/** consistentMask() in TypeScript (where the module is not available, and what the module is tested against). */
export function typedConsistentMask(back: FlowField, fwd: FlowField, region?: Rect): Uint8Array {
  const { width: w, height: h } = back;
  // Outside `region` both flows are zero, which is consistent.
  const ok = sharedBytes(w * h).fill(region ? 1 : 0);
  const r = region ?? { x: 0, y: 0, w, h };
  const { u: fu0, v: fv0 } = fwd;
  for (let y = r.y; y < r.y + r.h; y++) {
    for (let x = r.x, i = y * w + r.x; x < r.x + r.w; x++, i++) {
      const bu = back.u[i];
      const bv = back.v[i];
      const qx = x + bu;
      const qy = y + bv;
      if (qx < 0 || qy < 0 || qx > w - 1 || qy > h - 1) {
        ok[i] = 0;
        continue;
      }
      // sampleBilinear() of fwd.u and fwd.v at (qx, qy), the corners and fractions found once for both.
      const x0 = Math.floor(qx);
      const y0 = Math.floor(qy);
      const fx = qx - x0;
      const fy = qy - y0;
      const j00 = y0 * w + x0;
      const j01 = x0 < w - 1 ? j00 + 1 : j00;
      const j10 = y0 < h - 1 ? j00 + w : j00;
      const j11 = j10 + (j01 - j00);
      const ua = fu0[j00] + (fu0[j01] - fu0[j00]) * fx;
      const ub = fu0[j10] + (fu0[j11] - fu0[j10]) * fx;
      const fu = ua + (ub - ua) * fy;
      const va = fv0[j00] + (fv0[j01] - fv0[j00]) * fx;
      const vb = fv0[j10] + (fv0[j11] - fv0[j10]) * fx;
      const fv = va + (vb - va) * fy;
      const du = bu + fu;
      const dv = bv + fv;
      ok[i] = du * du + dv * dv <= 0.01 * (bu * bu + bv * bv + fu * fu + fv * fv) + 0.5 ? 1 : 0;
    }
  }
  return ok;
}

/** Mean |Δluma| over an 8×8 block above which the block counts as changed (camera grain averages out below). */
export const FLOW_REGION_LEVEL = 2;
const REGION_BLOCK = 8;
/** Context around the changed blocks, low-res pixels (covers the window at the coarse pyramid levels). */
export const FLOW_REGION_MARGIN = 16;

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The first and last column and row of the changed blocks. */
export interface Bounds {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * The part of the frame the flow is computed on: the bounding box of the 8×8 blocks that changed between the two
 * frames, with a margin. Elsewhere nothing moved, and the flow is zero: on a fixed camera with one moving part
 * this is a small share of the frame. Undefined when nothing changed. The blocks are found in this thread's
 * WebAssembly module where there is one (flow-simd.ts), else by typedChangedBlocks(): the same bounds.
 */
export function flowRegion(a: Uint8Array, b: Uint8Array, width: number, height: number): Rect | undefined {
  const simd = simdFlowHere()?.changedBlocks(a, b, width, height, FLOW_REGION_LEVEL);
  const blocks = simd === undefined ? typedChangedBlocks(a, b, width, height) : simd;
  if (!blocks) return undefined;
  const m = FLOW_REGION_MARGIN;
  const x = Math.max(0, blocks.x0 - m);
  const y = Math.max(0, blocks.y0 - m);
  return { x, y, w: Math.min(width, blocks.x1 + m + 1) - x, h: Math.min(height, blocks.y1 + m + 1) - y };
}

/**
 * The bounds of the 8×8 blocks (clipped at the edges) whose mean |a − b| is above FLOW_REGION_LEVEL; null where
 * none is. In TypeScript (where the module is not available, and what the module is tested against).
 */
export function typedChangedBlocks(a: Uint8Array, b: Uint8Array, width: number, height: number): Bounds | null {
  const B = REGION_BLOCK;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let by = 0; by < height; by += B) {
    for (let bx = 0; bx < width; bx += B) {
      const bw = Math.min(B, width - bx);
      const bh = Math.min(B, height - by);
      let sum = 0;
      for (let y = by; y < by + bh; y++)
        for (let x = bx, i = y * width + bx; x < bx + bw; x++, i++) sum += Math.abs(a[i] - b[i]);
      if (sum <= FLOW_REGION_LEVEL * bw * bh) continue;
      x0 = Math.min(x0, bx);
      y0 = Math.min(y0, by);
      x1 = Math.max(x1, bx + bw - 1);
      y1 = Math.max(y1, by + bh - 1);
    }
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}

function crop(plane: Uint8Array, width: number, r: Rect): Uint8Array {
  const out = new Uint8Array(r.w * r.h);
  for (let y = 0; y < r.h; y++)
    out.set(plane.subarray((r.y + y) * width + r.x, (r.y + y) * width + r.x + r.w), y * r.w);
  return out;
}

/**
 * The flow of the changed region only (zero elsewhere); see flowRegion(). opticalFlow() in WebAssembly where this
 * thread has the module (flow-simd.ts), the same numbers.
 */
export function regionFlow(from: Uint8Array, to: Uint8Array, width: number, height: number, o: FlowOptions) {
  const field: FlowField = { width, height, u: new Float32Array(width * height), v: new Float32Array(width * height) };
  const r = flowRegion(from, to, width, height);
  if (!r) return field;
  if (r.w === width && r.h === height) return opticalFlowHere(from, to, width, height, o);
  const f = opticalFlowHere(crop(from, width, r), crop(to, width, r), r.w, r.h, o);
  for (let y = 0; y < r.h; y++) {
    field.u.set(f.u.subarray(y * r.w, (y + 1) * r.w), (r.y + y) * width + r.x);
    field.v.set(f.v.subarray(y * r.w, (y + 1) * r.w), (r.y + y) * width + r.x);
  }
  return field;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

/**
 * Computes flows between low-res luma planes, remembering the last few so the reuse wrapper and the blend stage,
 * which both look at the same pair of frames, pay for it once. A result is found again by the planes' contents,
 * so it is exactly what computing it again would give (resume stays byte-identical).
 */
export class MotionEstimator {
  private readonly memo: { from: Uint8Array; to: Uint8Array; flow: FlowField }[] = [];
  private readonly links: { cur: Uint8Array; prev: Uint8Array; link: MotionLink }[] = [];
  private computed = 0;
  private linked = 0;
  private ms = 0;

  constructor(readonly options: FlowOptions = {}) {}

  /** Flows and links (consistency masks) actually computed here (not found in the memos); the flows' total time. */
  get stats(): { flows: number; links: number; ms: number } {
    return { flows: this.computed, links: this.linked, ms: this.ms };
  }

  flow(from: Uint8Array, to: Uint8Array, width: number, height: number): FlowField {
    const hit = this.memo.find((m) => m.flow.width === width && sameBytes(m.from, from) && sameBytes(m.to, to));
    if (hit) return hit.flow;
    const t = performance.now();
    const flow = regionFlow(from, to, width, height, this.options);
    this.ms += performance.now() - t;
    this.computed++;
    this.remember(from, to, flow);
    return flow;
  }

  /**
   * A flow computed elsewhere by regionFlow() with these options (flow-prefetch.ts's worker), for flow() to find:
   * the same function of the same planes, so the same numbers.
   */
  remember(from: Uint8Array, to: Uint8Array, flow: FlowField): void {
    this.memo.unshift({ from, to, flow });
    if (this.memo.length > 3) this.memo.pop();
  }

  /** Frame `cur` (t) against `prev` (t−1): the backward flow and where it can be trusted. */
  link(cur: Uint8Array, prev: Uint8Array, width: number, height: number): MotionLink {
    const hit = this.links.find((l) => l.link.back.width === width && sameBytes(l.cur, cur) && sameBytes(l.prev, prev));
    if (hit) return hit.link;
    this.linked++;
    const link = linkOf(cur, prev, this.flow(cur, prev, width, height), this.flow(prev, cur, width, height));
    this.rememberLink(cur, prev, link);
    return link;
  }

  /** A link made elsewhere by linkOf() from this estimator's flows (flow-prefetch.ts's worker), for link() to find. */
  rememberLink(cur: Uint8Array, prev: Uint8Array, link: MotionLink): void {
    this.links.unshift({ cur, prev, link });
    if (this.links.length > 2) this.links.pop();
  }
}

/** The link of frame `cur` to `prev` from the pair's backward and forward flows (regionFlow()'s). */
export function linkOf(cur: Uint8Array, prev: Uint8Array, back: FlowField, fwd: FlowField): MotionLink {
  const region = flowRegion(cur, prev, back.width, back.height);
  return { back, consistent: consistentMask(back, fwd, region ?? { x: 0, y: 0, w: 0, h: 0 }), region };
}
