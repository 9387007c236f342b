/**
 * Dense optical flow on low-res luma: pyramidal Lucas–Kanade (Bouguet 2000, "Pyramidal implementation of the
 * Lucas Kanade feature tracker"), computed for every pixel with box windows, in the inverse-compositional form
 * (Baker & Matthews 2004: the template's gradients and structure tensor are computed once per level, each
 * iteration only warps the target). A Tikhonov term on the 2×2 system keeps flat areas, where the window has no
 * gradient, at the coarser level's estimate instead of amplifying noise. Typed arrays only, no dependencies.
 */

/** Per-pixel displacement (u right, v down) in pixels: pixel p of `from` is at p + (u, v) in `to`. */
export interface FlowField {
  width: number;
  height: number;
  u: Float32Array;
  v: Float32Array;
}

export interface FlowOptions {
  /** Window radius (the window is (2r+1)² pixels). */
  radius?: number;
  /** Gauss–Newton iterations per pyramid level. */
  iterations?: number;
  /** Coarsest level's smaller side is at least this many pixels. */
  minSide?: number;
  /** Tikhonov regulariser added to the structure tensor's diagonal, per window pixel (levels²). */
  lambda?: number;
  /**
   * The finest level refined has at most this many pixels (0: every level, the plane itself included); the flow of
   * the finer levels is that level's, upsampled. The speed/detail trade of DIS's "finest scale": a 960×540 plane's
   * last level alone costs three times all coarser ones together.
   */
  finestPixels?: number;
}

export const FLOW_DEFAULTS: Required<FlowOptions> = {
  radius: 3,
  iterations: 4,
  minSide: 16,
  lambda: 0.25,
  finestPixels: 0,
};

interface Plane {
  w: number;
  h: number;
  d: Float32Array;
}

/** Bilinear sample of a plane at (x, y), clamped to the border. */
export function sampleBilinear(d: Float32Array | Uint8Array, w: number, h: number, x: number, y: number): number {
  const cx = Math.max(0, Math.min(x, w - 1));
  const cy = Math.max(0, Math.min(y, h - 1));
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = x0 < w - 1 ? x0 + 1 : x0;
  const y1 = y0 < h - 1 ? y0 + 1 : y0;
  const fx = cx - x0;
  const fy = cy - y0;
  const a = d[y0 * w + x0] + (d[y0 * w + x1] - d[y0 * w + x0]) * fx;
  const b = d[y1 * w + x0] + (d[y1 * w + x1] - d[y1 * w + x0]) * fx;
  return a + (b - a) * fy;
}

/** Halves a plane: [1 2 1]/4 blur then every other pixel (so the coarse level does not alias). */
function downsample(p: Plane): Plane {
  const w = Math.max(1, p.w >> 1);
  const h = Math.max(1, p.h >> 1);
  const d = new Float32Array(w * h);
  const at = (x: number, y: number) => p.d[Math.min(p.h - 1, Math.max(0, y)) * p.w + Math.min(p.w - 1, Math.max(0, x))];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sx = 2 * x;
      const sy = 2 * y;
      let s = 0;
      for (let j = -1; j <= 1; j++) {
        const wy = j === 0 ? 2 : 1;
        s += wy * (at(sx - 1, sy + j) + 2 * at(sx, sy + j) + at(sx + 1, sy + j));
      }
      d[y * w + x] = s / 16;
    }
  }
  return { w, h, d };
}

/** The pyramid's level sizes, coarsest first: the plane halved (downsample()) while its smaller side is ≥ 2·minSide. */
export function levelSizes(w: number, h: number, minSide: number): { w: number; h: number }[] {
  const sizes = [{ w, h }];
  while (Math.min(sizes[0].w, sizes[0].h) >= 2 * minSide)
    sizes.unshift({ w: Math.max(1, sizes[0].w >> 1), h: Math.max(1, sizes[0].h >> 1) });
  return sizes;
}

function pyramid(luma: Uint8Array, w: number, h: number, minSide: number): Plane[] {
  const count = levelSizes(w, h, minSide).length;
  const levels: Plane[] = [{ w, h, d: Float32Array.from(luma) }];
  while (levels.length < count) levels.unshift(downsample(levels[0]));
  return levels;
}

/**
 * Box sum of radius r (clipped at the borders), separable, in place into `out`. The column pass runs row by row with
 * one running sum per column (`cols`, float64 like the row pass's local): the same additions in the same order as a
 * column-by-column walk, read and written in memory order.
 */
export function boxSum(src: Float32Array, w: number, h: number, r: number, tmp: Float32Array, out: Float32Array): void {
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let s = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) s += src[row + x];
    const inner = Math.min(w, w - r - 1);
    let x = 0;
    for (; x < Math.min(r, inner); x++) {
      tmp[row + x] = s;
      s += src[row + x + r + 1];
    }
    for (; x < inner; x++) {
      tmp[row + x] = s;
      s += src[row + x + r + 1];
      s -= src[row + x - r];
    }
    for (; x < w; x++) {
      tmp[row + x] = s;
      if (x - r >= 0) s -= src[row + x - r];
    }
  }
  const cols = columnSums(w);
  cols.fill(0);
  for (let y = 0; y <= Math.min(r, h - 1); y++) for (let x = 0, i = y * w; x < w; x++, i++) cols[x] += tmp[i];
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const add = y + r + 1 < h ? (y + r + 1) * w : -1;
    const sub = y - r >= 0 ? (y - r) * w : -1;
    if (add >= 0 && sub >= 0)
      for (let x = 0; x < w; x++) {
        const s = cols[x];
        out[row + x] = s;
        cols[x] = s + tmp[add + x] - tmp[sub + x];
      }
    else
      for (let x = 0; x < w; x++) {
        let s = cols[x];
        out[row + x] = s;
        if (add >= 0) s += tmp[add + x];
        if (sub >= 0) s -= tmp[sub + x];
        cols[x] = s;
      }
  }
}

let columns = new Float64Array(0);
/** boxSum()'s per-column running sums, reused from call to call (one thread's). */
function columnSums(w: number): Float64Array {
  if (columns.length < w) columns = new Float64Array(w);
  return columns;
}

/** Central-difference gradients of a plane. */
function gradients(p: Plane): { gx: Float32Array; gy: Float32Array } {
  const { w, h, d } = p;
  const gx = new Float32Array(w * h);
  const gy = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      gx[i] = (d[y * w + Math.min(w - 1, x + 1)] - d[y * w + Math.max(0, x - 1)]) / 2;
      gy[i] = (d[Math.min(h - 1, y + 1) * w + x] - d[Math.max(0, y - 1) * w + x]) / 2;
    }
  }
  return { gx, gy };
}

/**
 * e = to(p + (u, v)) − from(p), bilinear (inlined: this is the hot loop). Pixels whose match falls outside the
 * target say nothing (e = 0): clamped samples would pull the flow towards zero at the borders.
 */
function warpError(from: Plane, to: Plane, u: Float32Array, v: Float32Array, e: Float32Array): void {
  const { w, h } = from;
  const t = to.d;
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i++) {
      const tx = x + u[i];
      const ty = y + v[i];
      if (!(tx >= 0 && ty >= 0 && tx <= w - 1 && ty <= h - 1)) {
        e[i] = 0;
        continue;
      }
      const x0 = tx | 0;
      const y0 = ty | 0;
      const fx = tx - x0;
      const fy = ty - y0;
      const j = y0 * w + x0;
      const dx = x0 < w - 1 ? 1 : 0;
      const dy = y0 < h - 1 ? w : 0;
      const a = t[j] + (t[j + dx] - t[j]) * fx;
      const b = t[j + dy] + (t[j + dy + dx] - t[j + dy]) * fx;
      e[i] = a + (b - a) * fy - from.d[i];
    }
  }
}

/** What one pyramid level of the template (`from`) contributes to every refinement: gradients, structure tensor. */
interface TemplateLevel {
  gx: Float32Array;
  gy: Float32Array;
  sxx: Float32Array;
  sxy: Float32Array;
  syy: Float32Array;
}

/** The template's gradients and their box sums (window radius r) on one level. */
function templateLevel(from: Plane, r: number): TemplateLevel {
  const { w, h } = from;
  const n = w * h;
  const { gx, gy } = gradients(from);
  const tmp = new Float32Array(n);
  const prod = new Float32Array(n);
  const sxx = new Float32Array(n);
  const sxy = new Float32Array(n);
  const syy = new Float32Array(n);
  for (let i = 0; i < n; i++) prod[i] = gx[i] * gx[i];
  boxSum(prod, w, h, r, tmp, sxx);
  for (let i = 0; i < n; i++) prod[i] = gx[i] * gy[i];
  boxSum(prod, w, h, r, tmp, sxy);
  for (let i = 0; i < n; i++) prod[i] = gy[i] * gy[i];
  boxSum(prod, w, h, r, tmp, syy);
  return { gx, gy, sxx, sxy, syy };
}

/** Refines (u, v) on one level in place. */
function refineLevel(
  from: Plane,
  to: Plane,
  u: Float32Array,
  v: Float32Array,
  t: TemplateLevel,
  o: Required<FlowOptions>,
): void {
  const { w, h } = from;
  const n = w * h;
  const { gx, gy, sxx, sxy, syy } = t;
  const tmp = new Float32Array(n);
  const prod = new Float32Array(n);
  const reg = o.lambda * (2 * o.radius + 1) ** 2;
  const bx = new Float32Array(n);
  const by = new Float32Array(n);
  const scratch = new Float32Array(n);
  for (let it = 0; it < o.iterations; it++) {
    // Error image: the target warped by the current flow minus the template.
    warpError(from, to, u, v, tmp);
    // Each window's least-squares solution of the system linearised at every pixel's own estimate:
    // Σ g(gᵀd − e) = Σ g gᵀ · d_new (plus the regulariser pulling towards the current estimate). Solving for the
    // window as a whole, not adding a per-pixel step, keeps neighbouring estimates from amplifying each other.
    for (let i = 0; i < n; i++) {
      const r = gx[i] * u[i] + gy[i] * v[i] - tmp[i];
      prod[i] = gx[i] * r;
      tmp[i] = gy[i] * r;
    }
    boxSum(prod, w, h, o.radius, scratch, bx);
    boxSum(tmp, w, h, o.radius, scratch, by);
    for (let i = 0; i < n; i++) {
      const a = sxx[i] + reg;
      const c = syy[i] + reg;
      const b = sxy[i];
      const det = a * c - b * b;
      const rx = bx[i] + reg * u[i];
      const ry = by[i] + reg * v[i];
      u[i] = (c * rx - b * ry) / det;
      v[i] = (a * ry - b * rx) / det;
    }
  }
}

/** Flow of the finer level from the coarser one: bilinear upsampling, displacements doubled. */
function upsampleFlow(u: Float32Array, v: Float32Array, cw: number, ch: number, w: number, h: number) {
  const fu = new Float32Array(w * h);
  const fv = new Float32Array(w * h);
  const sx = cw / w;
  const sy = ch / h;
  for (let y = 0, i = 0; y < h; y++) {
    // sampleBilinear() of u and of v at one point, the corners and fractions found once for both.
    const cy = Math.max(0, Math.min((y + 0.5) * sy - 0.5, ch - 1));
    const y0 = Math.floor(cy);
    const fy = cy - y0;
    const down = y0 < ch - 1 ? cw : 0;
    for (let x = 0; x < w; x++, i++) {
      const cx = Math.max(0, Math.min((x + 0.5) * sx - 0.5, cw - 1));
      const x0 = Math.floor(cx);
      const fx = cx - x0;
      const j00 = y0 * cw + x0;
      const j01 = x0 < cw - 1 ? j00 + 1 : j00;
      const j10 = j00 + down;
      const j11 = j01 + down;
      const ua = u[j00] + (u[j01] - u[j00]) * fx;
      const ub = u[j10] + (u[j11] - u[j10]) * fx;
      fu[i] = (ua + (ub - ua) * fy) / sx;
      const va = v[j00] + (v[j01] - v[j00]) * fx;
      const vb = v[j10] + (v[j11] - v[j10]) * fx;
      fv[i] = (va + (vb - va) * fy) / sy;
    }
  }
  return { u: fu, v: fv };
}

/** A luma plane's pyramid, and (once used as a template) each level's TemplateLevel. */
interface PlanePyramid {
  luma: Uint8Array;
  width: number;
  height: number;
  minSide: number;
  levels: Plane[];
  template?: { radius: number; levels: TemplateLevel[] };
}

/**
 * The last two planes' pyramids (this thread's): consecutive flows share planes. A pair's backward flow (t → t−1)
 * and forward flow (t−1 → t) use the same two, and the next pair brings one new plane; frame t is the template of
 * t's backward and t+1's forward flow. Found again by the plane's contents, so what is reused is exactly what
 * computing it again would give. A plane whose pyramid and template would take more than PYRAMID_MAX_BYTES is
 * not kept (large inputs: the memory matters more there).
 */
const pyramids: PlanePyramid[] = [];
const PYRAMIDS_KEPT = 2;
export const PYRAMID_MAX_BYTES = 48 * 2 ** 20;

function pyramidOf(luma: Uint8Array, width: number, height: number, minSide: number): PlanePyramid {
  const hit = pyramids.find(
    (p) =>
      p.width === width &&
      p.height === height &&
      p.minSide === minSide &&
      Buffer.from(p.luma.buffer, p.luma.byteOffset, p.luma.byteLength).equals(luma),
  );
  if (hit) return hit;
  const levels = pyramid(luma, width, height, minSide);
  const made = { luma: luma.slice(), width, height, minSide, levels };
  // Each level's plane and its template's five planes, float32.
  const bytes = luma.byteLength + levels.reduce((sum, l) => sum + 6 * l.d.byteLength, 0);
  if (bytes > PYRAMID_MAX_BYTES) return made;
  pyramids.unshift(made);
  if (pyramids.length > PYRAMIDS_KEPT) pyramids.pop();
  return made;
}

/** The template of the pyramid's `count` coarsest levels (made once per radius, extended when more are asked). */
function templateOf(p: PlanePyramid, radius: number, count: number): TemplateLevel[] {
  if (p.template?.radius !== radius) p.template = { radius, levels: [] };
  const made = p.template.levels;
  while (made.length < count) made.push(templateLevel(p.levels[made.length], radius));
  return made;
}

/** The finest level refined: the last with at most `finestPixels` pixels (the coarsest always; 0: the last). */
export function finestLevel(levels: readonly { w: number; h: number }[], finestPixels: number): number {
  if (finestPixels <= 0) return levels.length - 1;
  let l = 0;
  while (l + 1 < levels.length && levels[l + 1].w * levels[l + 1].h <= finestPixels) l++;
  return l;
}

/** opticalFlow()'s options, the defaults filled in, once its planes are checked to be w×h (a RangeError if not). */
export function flowOptions(
  from: Uint8Array,
  to: Uint8Array,
  width: number,
  height: number,
  opts: FlowOptions,
): Required<FlowOptions> {
  if (from.length !== width * height || to.length !== width * height)
    throw new RangeError(`optical flow: planes of ${from.length} and ${to.length} bytes, expected ${width * height}`);
  return { ...FLOW_DEFAULTS, ...opts };
}

/** Dense flow from `from` to `to` (both w×h luma, 0..255). */
export function opticalFlow(
  from: Uint8Array,
  to: Uint8Array,
  width: number,
  height: number,
  opts: FlowOptions = {},
): FlowField {
  const o = flowOptions(from, to, width, height, opts);
  const fromPyramid = pyramidOf(from, width, height, o.minSide);
  const pf = fromPyramid.levels;
  const pt = pyramidOf(to, width, height, o.minSide).levels;
  const last = finestLevel(pf, o.finestPixels);
  const template = templateOf(fromPyramid, o.radius, last + 1);
  let u = new Float32Array(pf[0].w * pf[0].h);
  let v = new Float32Array(pf[0].w * pf[0].h);
  for (let l = 0; l <= last; l++) {
    if (l > 0) ({ u, v } = upsampleFlow(u, v, pf[l - 1].w, pf[l - 1].h, pf[l].w, pf[l].h));
    refineLevel(pf[l], pt[l], u, v, template[l], o);
  }
  if (last < pf.length - 1) ({ u, v } = upsampleFlow(u, v, pf[last].w, pf[last].h, width, height));
  return { width, height, u, v };
}
