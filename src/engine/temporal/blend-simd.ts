import { blendPlannedOnCpu, completePlan, type PlannedBlend } from './blend-plan';
import { BLEND_SIMD_WASM } from './blend-simd-wasm';

/**
 * The per-output-pixel blend (blend-plan.ts blendOnCpu()) in WebAssembly SIMD (wasm/blend.ts): the same arithmetic
 * in two f64 lanes, so the same bytes, in about half the time of the typed arrays (docs/dev/engine.md). The frames
 * live in the module's memory while they are pasts: each new output is copied in once when it is blended and stays
 * there for the next frames' blends; a past that is not there (after a resume's priming) is copied in when first
 * read. Where WebAssembly SIMD is not available (a CPU without it, `HUAJU4K_BLEND_SIMD=0`), or the memory cannot
 * grow, the typed arrays carry the plan out instead, with the same result.
 */

/** Bytes at the start of the memory for the kernel's per-block scratch (weights and source addresses). */
const SCRATCH = 256;
/** The kernel's own limit on past frames per block (wasm/blend.ts MAX_PASTS). */
const MAX_PASTS = 16;
const PAGE = 65536;
/** wasm32's limit: 4 GiB. */
const MAX_PAGES = 65536;

type Kernel = (...args: number[]) => number;

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, once per process; null where WebAssembly SIMD is not available or it is turned off. */
function blendModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    compiled =
      process.env.HUAJU4K_BLEND_SIMD === '0' ? null : new WebAssembly.Module(Buffer.from(BLEND_SIMD_WASM, 'base64'));
  } catch {
    compiled = null;
  }
  return compiled;
}

export class SimdBlend {
  private readonly memory: WebAssembly.Memory;
  private readonly kernel: Kernel;
  /** Frames held in the memory (pasts, and the last output), by the buffer they were copied from. */
  private readonly slots = new Map<Uint8Array, number>();
  private free: number[] = [];
  private frameBytes = 0;
  /** Where the next new slot goes; the plan's planes are written after the last slot. */
  private top = 0;
  /** Why the typed arrays took over, if they did. */
  failure: string | undefined;
  /** Blends carried out here. */
  runs = 0;

  private constructor(module: WebAssembly.Module) {
    this.memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.kernel = instance.exports.blendBlocks as Kernel;
  }

  /** A blender, or undefined where WebAssembly SIMD is not available (blendPlanned() then uses the typed arrays). */
  static create(): SimdBlend | undefined {
    const module = blendModule();
    return module ? new SimdBlend(module) : undefined;
  }

  /** What blendPlannedOnCpu() returns for this plan: a new buffer, or raw itself where no block is blended. */
  blend(raw: Uint8Array, planned: PlannedBlend): Uint8Array {
    const plan = completePlan(planned);
    if (plan.blocks === 0) return raw;
    if (this.failure !== undefined || plan.pasts.length > MAX_PASTS) return blendPlannedOnCpu(raw, planned);
    try {
      return this.run(raw, planned);
    } catch (err) {
      // Out of memory for the frames (wasm32's 4 GiB, or the machine's): the typed arrays from here on.
      this.failure = err instanceof Error ? err.message : String(err);
      this.slots.clear();
      return blendPlannedOnCpu(raw, planned);
    }
  }

  private run(raw: Uint8Array, { plan, size }: PlannedBlend): Uint8Array {
    const bytes = raw.length;
    if (bytes !== this.frameBytes) this.reset(bytes);
    // Only this output and its pasts can be read again: the next frame's pasts are this one and its newest pasts.
    const keep = new Set<Uint8Array>([raw, ...plan.pasts]);
    for (const [buffer, at] of this.slots)
      if (!keep.has(buffer)) {
        this.slots.delete(buffer);
        this.free.push(at);
      }
    const rawAt = this.slotOf(raw);
    const pastAt = plan.pasts.map((p) => this.slotOf(p));
    const n = size.width * size.height;
    const m = plan.weights.length;
    const shifted = plan.shifts !== undefined;
    // The plan after the last slot: w0, m weight planes, (m shift planes), m past addresses.
    const w0At = this.top;
    const weightsAt = w0At + n * 4;
    const shiftsAt = weightsAt + m * n * 4;
    const pastsAt = shiftsAt + (shifted ? m * n * 4 : 0);
    this.ensure(pastsAt + m * 4);
    const mem = this.memory.buffer;
    new Float32Array(mem, w0At, n).set(plan.w0);
    for (let k = 0; k < m; k++) {
      new Float32Array(mem, weightsAt + k * n * 4, n).set(plan.weights[k]);
      if (plan.shifts) new Int32Array(mem, shiftsAt + k * n * 4, n).set(plan.shifts[k]);
    }
    new Uint32Array(mem, pastsAt, m).set(pastAt);
    // The output area (the first slot-sized area) starts as the model's bytes; the kernel writes the blended blocks.
    const u8 = new Uint8Array(mem);
    u8.copyWithin(SCRATCH, rawAt, rawAt + bytes);
    const { width: w, height: h, scale: s } = size;
    const blocks = this.kernel(rawAt, SCRATCH, w, h, s, w0At, m, weightsAt, shifted ? shiftsAt : 0, pastsAt, 0);
    if (blocks !== plan.blocks) throw new Error(`blend kernel blended ${blocks} blocks, the plan has ${plan.blocks}`);
    const out = Buffer.allocUnsafeSlow(bytes);
    out.set(u8.subarray(SCRATCH, SCRATCH + bytes));
    this.runs++;
    return out;
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

/** Carries a planned blend out: with `simd` where it has one, else the typed arrays; the same bytes either way. */
export function blendPlanned(raw: Uint8Array, planned: PlannedBlend, simd: SimdBlend | undefined): Uint8Array {
  return simd ? simd.blend(raw, planned) : blendPlannedOnCpu(raw, planned);
}
