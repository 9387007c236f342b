import {
  type BlendPlan,
  blendPlannedOnCpu,
  completePlan,
  type PlannedBlend,
  type PlanSize,
  type StillRows,
  type WarpedRows,
} from './blend-plan';
import { BlendPool, MAX_POOL_THREADS, PoolClosedError } from './blend-pool';
import { TEMPORAL_WASM } from './temporal-wasm';

/**
 * The per-output-pixel blend (blend-plan.ts blendOnCpu()) in WebAssembly SIMD (wasm/temporal.ts): the same arithmetic
 * in two f64 lanes, so the same bytes, in about half the time of the typed arrays (docs/dev/engine.md); the plans'
 * rows still to be made (the motion blend's, the static blend's) are made in the module too. The frames
 * live in the module's memory while they are pasts: each new output is copied in once when it is blended and stays
 * there for the next frames' blends; a past that is not there (after a resume's priming) is copied in when first
 * read. Where WebAssembly SIMD is not available (a CPU without it, `HUAJU4K_BLEND_SIMD=0`), or the memory cannot
 * grow, the typed arrays carry the plan out instead, with the same result.
 */

/** Bytes of a thread's per-block scratch (weights and source addresses) for the blend kernel. */
const SCRATCH_SLOT = 512;
/** At the start of the memory: a scratch for this thread and one for each of the pool's (blend-pool.ts). */
const SCRATCH = SCRATCH_SLOT * (1 + MAX_POOL_THREADS);
/** The kernel's own limit on past frames per block (wasm/temporal.ts MAX_PASTS). */
const MAX_PASTS = 16;
const PAGE = 65536;
/** wasm32's limit: 4 GiB. */
const MAX_PAGES = 65536;

type Kernel = (...args: number[]) => number;

/** Where a plan's planes are in the memory (byte offsets); n = blocks, m = pasts; `input`: a planner's inputs. */
interface PlanLayout {
  n: number;
  m: number;
  w0: number;
  weights: number;
  shifts: number;
  pasts: number;
  input: number;
}

/** What a plan's rows left to plan are planned from (blend-plan.ts). */
type LazyRows = { warped: WarpedRows; still?: undefined } | { still: StillRows; warped?: undefined };

/**
 * The motion blend's planner's inputs, where its rows are left to plan: planWarped()'s arguments (wasm/temporal.ts)
 * from `raw` to `agreeLimit` (blendWarped() takes the same after its own `out`).
 */
interface PlanCall {
  raw: number;
  size: readonly [w: number, h: number, s: number, m: number];
  inputs: number[];
}

let compiled: WebAssembly.Module | null | undefined;

/** A memory for the temporal module (its memory is shared, so the blend pool's threads can work in it). */
export function temporalMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
}

/**
 * The compiled module (wasm/temporal.ts: the blend, its plans, the motion plan), once per thread; null where
 * WebAssembly SIMD or shared memory is not available or `HUAJU4K_BLEND_SIMD=0` turns the kernels off.
 */
export function temporalModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    // A runtime without shared WebAssembly memory cannot run the module either (its memory is shared).
    if (process.env.HUAJU4K_BLEND_SIMD !== '0') temporalMemory();
    compiled =
      process.env.HUAJU4K_BLEND_SIMD === '0' ? null : new WebAssembly.Module(Buffer.from(TEMPORAL_WASM, 'base64'));
  } catch {
    compiled = null;
  }
  return compiled;
}

export class SimdBlend {
  private readonly memory: WebAssembly.Memory;
  private readonly blendBlocks: Kernel;
  private readonly planWarped: Kernel;
  private readonly planStatic: Kernel;
  /** Frames held in the memory (pasts, and the last output), by the buffer they were copied from. */
  private readonly slots = new Map<Uint8Array, number>();
  private free: number[] = [];
  private frameBytes = 0;
  /** Where the next new slot goes; the plan's planes are written after the last slot. */
  private top = 0;
  /** Why the typed arrays took over, if they did. */
  failure: string | undefined;
  /** Blends carried out here (by this thread or the pool). */
  runs = 0;
  /** Plans made here (planWarped, planStatic). */
  plans = 0;
  /** Blends whose per-output-pixel work the pool's threads did. */
  pooled = 0;
  /** Threads that blend bands of rows in this memory (blendLater()), once usePool() asked for them. */
  private pool: BlendPool | undefined;
  /** The last blend asked of the pool: the next one starts after it (the frames' slots change between blends). */
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private poolStopped: string | undefined;

  private constructor(private readonly module: WebAssembly.Module) {
    this.memory = temporalMemory();
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.blendBlocks = instance.exports.blendBlocks as Kernel;
    this.planWarped = instance.exports.planWarped as Kernel;
    this.planStatic = instance.exports.planStatic as Kernel;
  }

  /** Frames copied into the memory and held there (the last output and its pasts). */
  get framesHeld(): number {
    return this.slots.size;
  }

  /** A blender, or undefined where WebAssembly SIMD is not available (blendPlanned() then uses the typed arrays). */
  static create(): SimdBlend | undefined {
    const module = temporalModule();
    return module ? new SimdBlend(module) : undefined;
  }

  /**
   * blendLater() from now on carries the plans out on `threads` worker threads sharing this memory, each a band of
   * rows (blend-pool.ts), so the per-output-pixel work leaves this thread and uses the cores it has. 0: none.
   */
  usePool(threads: number): void {
    this.pool?.close();
    const n = Math.min(MAX_POOL_THREADS, Math.floor(threads));
    this.pool = n > 0 ? new BlendPool(this.memory, this.module, n, SCRATCH_SLOT) : undefined;
  }

  /** Stops the pool's threads (a cancel, the run's end); a pending blend rejects; a later one starts them again. */
  stopPool(): void {
    this.pool?.close();
  }

  /** Threads in the pool (0: this thread blends). */
  get poolThreads(): number {
    return this.pool?.threads ?? 0;
  }

  /** Why the pool stopped, if it did (this thread blends since). */
  get poolFailure(): string | undefined {
    return this.poolStopped;
  }

  /**
   * blend()'s result, from the pool's threads where there is one (this thread only places the frames and the plan's
   * inputs): the same bytes. Blends run one after another in the order asked; while one is pending, blend() and
   * complete() must not be called. Where the pool fails, this thread blends (and does from then on).
   */
  blendLater(raw: Uint8Array, planned: PlannedBlend): Promise<Uint8Array> {
    this.pending++;
    const run = this.queue.then(() => this.blendPooled(raw, planned));
    const done = run.finally(() => this.pending--);
    this.queue = done.catch(() => undefined);
    return done;
  }

  /** What blendPlannedOnCpu() returns for this plan: a new buffer, or raw itself where no block is blended. */
  blend(raw: Uint8Array, planned: PlannedBlend): Uint8Array {
    this.notPending();
    return this.blendHere(raw, planned);
  }

  /** blend() in this thread. */
  private blendHere(raw: Uint8Array, planned: PlannedBlend): Uint8Array {
    // The motion blend's rows not planned yet are planned in the module too, from what planRow would read.
    const here = this.lazyRows(raw, planned);
    if (!here) completePlan(planned);
    if (!here && planned.plan.blocks === 0) return raw;
    if (!this.usable(planned)) return blendPlannedOnCpu(raw, planned);
    try {
      return this.run(raw, planned, here);
    } catch (err) {
      this.fail(err);
      return blendPlannedOnCpu(raw, planned);
    }
  }

  /**
   * The plan completed for a blend carried out elsewhere (the blend graph): the motion blend's rows planned in the
   * module where they are left to plan (planWarpedRow()'s numbers), else as completePlan() does.
   */
  complete(raw: Uint8Array, planned: PlannedBlend): BlendPlan {
    this.notPending();
    const here = this.lazyRows(raw, planned);
    if (here && this.usable(planned))
      try {
        // The static plan reads lumas only: the frames are copied in when a motion plan or a blend reads them.
        this.place(raw, planned, here, !!here.warped);
      } catch (err) {
        this.fail(err);
      }
    // Nothing left to plan where the module planned it.
    return completePlan(planned);
  }

  private notPending(): void {
    if (this.pending > 0) throw new Error('temporal: a blend in this thread while the pool blends');
  }

  /** blendLater()'s work: on the pool, or in this thread where there is none or it failed. */
  private async blendPooled(raw: Uint8Array, planned: PlannedBlend): Promise<Uint8Array> {
    const pool = this.pool;
    const here = this.lazyRows(raw, planned);
    if (!pool || !this.usable(planned)) return this.blendHere(raw, planned);
    if (!here) completePlan(planned);
    if (!here && planned.plan.blocks === 0) return raw;
    let placed: ReturnType<SimdBlend['place']>;
    try {
      placed = this.place(raw, planned, here, true, true);
    } catch (err) {
      this.fail(err);
      return blendPlannedOnCpu(raw, planned);
    }
    try {
      return await this.runPooled(pool, raw, planned, placed);
    } catch (err) {
      if (err instanceof PoolClosedError) throw err;
      // A thread failed (or answered wrong): this thread blends from here on, from the same inputs.
      this.poolStopped = err instanceof Error ? err.message : String(err);
      pool.close();
      this.pool = undefined;
      return this.blendHere(raw, planned);
    }
  }

  /** The placed plan planned (where rows are left) and carried out by the pool: a new (shared) buffer, or raw. */
  private async runPooled(
    pool: BlendPool,
    raw: Uint8Array,
    { plan, size }: PlannedBlend,
    { rawAt, at, blocks, planCall }: ReturnType<SimdBlend['place']>,
  ): Promise<Uint8Array> {
    const { width: w, height: h, scale: s } = size;
    if (!planCall && blocks === 0) return raw;
    const out = Buffer.from(new SharedArrayBuffer(raw.length));
    const into = { out, from: SCRATCH, rowBytes: w * s * s * 3 };
    let blended: number;
    if (planCall) {
      // The motion blend's rows planned and blended in one pass (blendWarped()): its plan is never written out.
      blended = await pool.run('blendWarped', [planCall.raw, SCRATCH, ...planCall.size, ...planCall.inputs], h, into);
      this.plans++;
    } else {
      const shifts = plan.shifts ? at.shifts : 0;
      const args = [rawAt, SCRATCH, w, h, s, at.w0, at.m, at.weights, shifts, at.pasts];
      blended = await pool.run('blend', args, h, into);
      if (blended !== blocks) throw new Error(`blend pool blended ${blended} blocks, the plan has ${blocks}`);
    }
    if (blended < 0) throw new Error(`blend pool refused the plan (${blended})`);
    if (blended === 0) return raw;
    this.runs++;
    this.pooled++;
    return out;
  }

  /** What the plan's rows are to be planned from, where they are left to plan (and, with motion, from this output). */
  private lazyRows(raw: Uint8Array, { plan }: PlannedBlend): LazyRows | undefined {
    if (!plan.planRow) return undefined;
    if (plan.warped?.raw === raw) return { warped: plan.warped };
    return plan.still && { still: plan.still };
  }

  private usable({ plan }: PlannedBlend): boolean {
    return this.failure === undefined && plan.pasts.length <= MAX_PASTS;
  }

  /** Out of memory for the frames (wasm32's 4 GiB, or the machine's): the typed arrays from here on. */
  private fail(err: unknown): void {
    this.failure = err instanceof Error ? err.message : String(err);
    this.slots.clear();
  }

  private run(raw: Uint8Array, planned: PlannedBlend, lazy: LazyRows | undefined): Uint8Array {
    const { plan, size } = planned;
    const { rawAt, at, blocks } = this.place(raw, planned, lazy);
    if (blocks === 0) return raw;
    const u8 = new Uint8Array(this.memory.buffer);
    const bytes = raw.length;
    // The kernel copies the model's bytes into the output area (the first slot-sized area), then blends there.
    const { width: w, height: h, scale: s } = size;
    const shifts = plan.shifts ? at.shifts : 0;
    const args = [rawAt, SCRATCH, w, h, s, at.w0, at.m, at.weights, shifts, at.pasts] as const;
    const blended = this.blendBlocks(...args, 0, 0, h);
    if (blended !== blocks) throw new Error(`blend kernel blended ${blended} blocks, the plan has ${blocks}`);
    const out = Buffer.allocUnsafeSlow(bytes);
    out.set(u8.subarray(SCRATCH, SCRATCH + bytes));
    this.runs++;
    return out;
  }

  /**
   * The frames and the plan in the memory: the new output and its pasts in their slots (every other slot let go),
   * the plan copied in, or planned here from what its rows are planned from (and copied back, complete). Returns
   * where, and its blocks. Without `frames` the frames are not copied in (their addresses are 0): for a planner
   * that does not read them. With `later`, the motion blend's rows are not planned: their planner's inputs are put
   * in place and `planCall` holds its arguments (the pool plans them, blocks is then 0).
   */
  private place(
    raw: Uint8Array,
    { plan, size }: PlannedBlend,
    lazy: LazyRows | undefined,
    frames = true,
    later = false,
  ) {
    if (raw.length !== this.frameBytes) this.reset(raw.length);
    // Only this output and its pasts can be read again: the next frame's pasts are this one and its newest pasts.
    const keep = new Set<Uint8Array>([raw, ...plan.pasts]);
    for (const [buffer, at] of this.slots)
      if (!keep.has(buffer)) {
        this.slots.delete(buffer);
        this.free.push(at);
      }
    const rawAt = frames ? this.slotOf(raw) : 0;
    const pastAt = plan.pasts.map((p) => (frames ? this.slotOf(p) : 0));
    const m = plan.weights.length;
    const n = size.width * size.height;
    // The planners' inputs: the warp plan's weights and offsets and `same`; the static plan's lumas, `same`, work.
    const inputs = lazy?.warped ? 12 * m * n + n : lazy?.still ? (m + 2) * n + 16 + 20 * n : 0;
    const at = this.layout(size, m, inputs);
    new Uint32Array(this.memory.buffer, at.pasts, pastAt.length).set(pastAt);
    let blocks = 0;
    let planCall: PlanCall | undefined;
    if (lazy?.warped) {
      planCall = this.warpedInputs(rawAt, size, lazy.warped, at);
      const { raw, size: wh, inputs } = planCall;
      const into = [at.w0, at.weights, at.shifts];
      if (!later) blocks = this.planned(plan, at, this.planWarped(raw, ...wh, ...inputs, ...into, 0, 0, size.height));
    } else if (lazy?.still) blocks = this.planStillHere({ plan, size }, lazy.still, at);
    else blocks = this.copyPlan(plan, at);
    return { rawAt, at, blocks, planCall: later ? planCall : undefined };
  }

  /**
   * The plan's places after the last slot: w0, m weight planes, m shift planes, m past addresses, then `inputs` bytes
   * for a planner's inputs; the memory grown to hold them.
   */
  private layout(size: PlanSize, m: number, inputs: number): PlanLayout {
    const n = size.width * size.height;
    const plane = n * 4;
    const w0 = this.top;
    const weights = w0 + plane;
    const shifts = weights + m * plane;
    const pasts = shifts + m * plane;
    const input = Math.ceil((pasts + m * 4) / 16) * 16;
    this.ensure(input + inputs);
    return { n, m, w0, weights, shifts, pasts, input };
  }

  /** A plan made in TypeScript, copied in. Returns its blocks. */
  private copyPlan(plan: BlendPlan, at: PlanLayout): number {
    const mem = this.memory.buffer;
    new Float32Array(mem, at.w0, at.n).set(plan.w0);
    for (let k = 0; k < at.m; k++) {
      new Float32Array(mem, at.weights + k * at.n * 4, at.n).set(plan.weights[k]);
      if (plan.shifts) new Int32Array(mem, at.shifts + k * at.n * 4, at.n).set(plan.shifts[k]);
    }
    return plan.blocks;
  }

  /**
   * The motion blend's planner's inputs (wasm/temporal.ts planWarped(), motion-blend.ts planWarpedRow()'s numbers)
   * put in place. Returns the planner's arguments but its band of rows (it zeroes its outputs' rows itself).
   */
  private warpedInputs(rawAt: number, size: PlanSize, warped: WarpedRows, at: PlanLayout): PlanCall {
    const { n, m } = at;
    const mem = this.memory.buffer;
    const [inWeights, inOx, inOy, same] = [0, 1, 2, 3].map((j) => at.input + j * m * n * 4);
    warped.pasts.forEach((q, k) => {
      new Float32Array(mem, inWeights + k * n * 4, n).set(q.weight);
      new Int32Array(mem, inOx + k * n * 4, n).set(q.ox);
      new Int32Array(mem, inOy + k * n * 4, n).set(q.oy);
    });
    if (warped.same) new Uint8Array(mem, same, n).set(warped.same);
    const { width: w, height: h, scale: s } = size;
    return {
      raw: rawAt,
      size: [w, h, s, m],
      inputs: [at.pasts, inWeights, inOx, inOy, warped.same ? same : 0, warped.agreeLimit],
    };
  }

  /** The static blend's plan made here (wasm/temporal.ts planStatic(), stillPlan()'s numbers), copied back. */
  private planStillHere({ plan, size }: PlannedBlend, still: StillRows, at: PlanLayout): number {
    const { n, m } = at;
    const mem = this.memory.buffer;
    const u8 = new Uint8Array(mem);
    // At `input`: cur, the m past lumas, `same`, then the work planes (16-byte aligned).
    const lumaAt = (k: number) => at.input + (1 + k) * n;
    u8.set(still.cur, at.input);
    for (const [k, luma] of still.lumas.entries()) u8.set(luma, lumaAt(k));
    const same = at.input + (1 + m) * n;
    if (still.same) u8.set(still.same, same);
    const work = Math.ceil((same + n) / 16) * 16;
    // The kernel reads the lumas' addresses where the pasts' are; the pasts' are put back after.
    const table = new Uint32Array(mem, at.pasts, m);
    const pastAt = Uint32Array.from(table);
    table.set(still.lumas.map((_, k) => lumaAt(k)));
    const { staticBelow, movingAbove, decay } = still.t;
    const masks = [staticBelow, movingAbove, decay, still.same ? same : 0] as const;
    const blocks = this.planStatic(at.input, size.width, size.height, m, at.pasts, ...masks, at.w0, at.weights, work);
    table.set(pastAt);
    return this.planned(plan, at, blocks);
  }

  /** The plan made here copied back into `plan`, which is then complete. Returns its blocks. */
  private planned(plan: BlendPlan, at: PlanLayout, blocks: number): number {
    const { n, m } = at;
    const mem = this.memory.buffer;
    plan.planRow = undefined;
    plan.w0.set(new Float32Array(mem, at.w0, n));
    for (let k = 0; k < m; k++) {
      plan.weights[k].set(new Float32Array(mem, at.weights + k * n * 4, n));
      plan.shifts?.[k].set(new Int32Array(mem, at.shifts + k * n * 4, n));
    }
    plan.blocks = blocks;
    this.plans++;
    return blocks;
  }

  /** Frames of another size: every slot dropped, the output area sized for them. */
  private reset(bytes: number): void {
    this.slots.clear();
    this.free = [];
    this.frameBytes = bytes;
    // Slots start 16-byte aligned after the output area.
    this.top = SCRATCH + Math.ceil(bytes / 16) * 16;
  }

  /** Where `frame` is in the memory, copied in if it is not there yet. */
  private slotOf(frame: Uint8Array): number {
    const held = this.slots.get(frame);
    if (held !== undefined) return held;
    let at = this.free.pop();
    if (at === undefined) {
      at = this.top;
      this.top += Math.ceil(this.frameBytes / 16) * 16;
      this.ensure(this.top);
    }
    new Uint8Array(this.memory.buffer, at, frame.length).set(frame);
    this.slots.set(frame, at);
    return at;
  }

  /** The memory grown to at least `bytes` (a RangeError where it cannot). */
  private ensure(bytes: number): void {
    const pages = Math.ceil(bytes / PAGE);
    const have = this.memory.buffer.byteLength / PAGE;
    if (pages > have) this.memory.grow(pages - have);
  }
}

/**
 * The most memory the SIMD blend holds for frames of `outBytes` (rgb24, `scale`× the input) with up to `pasts` past
 * frames: the pasts, the new output and the blended one, and the plan's planes with the motion blend's inputs.
 */
export function simdBlendBytes(outBytes: number, scale: number, pasts: number): number {
  const blocks = outBytes / (3 * scale * scale);
  // Per block: w0, the weights and shifts, and the larger of the two planners' inputs (place()).
  const inputs = Math.max(12 * pasts + 1, pasts + 2 + 20);
  const planBytes = blocks * (4 * (1 + 2 * pasts) + inputs) + 4 * pasts + 32;
  return SCRATCH + (pasts + 2) * (outBytes + 16) + Math.ceil(planBytes);
}

/** Carries a planned blend out: with `simd` where it has one, else the typed arrays; the same bytes either way. */
export function blendPlanned(raw: Uint8Array, planned: PlannedBlend, simd: SimdBlend | undefined): Uint8Array {
  return simd ? simd.blend(raw, planned) : blendPlannedOnCpu(raw, planned);
}
