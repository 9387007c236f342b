import type { FrameStage, PipelineFrame } from '../frame-stage';
import { completePlan, type PlannedBlend, type PlanSize, stillPlan, stillWeights } from './blend-plan';
import { blendPlanned, SimdBlend } from './blend-simd';
import { FrameHistory, type HistoryEntry } from './frame-history';
import { frameLuma, frameSceneCut } from './frame-luma';
import type { MotionEstimator, MotionLink } from './motion';
import { type WarpedPast, warpedPlan } from './motion-blend';
import type { UnchangedTiles } from './reuse-upscaler';
import { DEFAULT_TEMPORAL_STRENGTH, type TemporalParams, type TemporalStrength, temporalParams } from './strength';
import { warpedPastsHere } from './warp-simd';
import type { WarpWorker } from './warp-worker';

export interface TemporalStageOptions {
  strength?: TemporalStrength;
  /** Bound on the bytes of past frames held (low-res luma + outputs); the window shrinks to fit. */
  maxBytes?: number;
  /** Overrides the strength's parameters (the quality tool's experiments). */
  params?: Partial<TemporalParams>;
  /** Follow motion: blend past outputs warped by the low-res optical flow (absent = static areas only). */
  motion?: MotionEstimator;
  /** What each output shares with the ones before (the reuse wrapper's UnchangedTiles): blocks it shares are not blended. */
  unchanged?: (output: Uint8Array) => UnchangedTiles | undefined;
  /** split() has the motion blend's low-res plan computed there (warp-worker.ts) while the next frame is upscaled. */
  warps?: WarpWorker;
  /**
   * Threads that carry split()'s blends out (blend-pool.ts: bands of rows on the SIMD blend's shared memory), so the
   * per-output-pixel work leaves the pipeline's thread; 0 or absent: that thread blends.
   */
  blendThreads?: number;
}

export const DEFAULT_TEMPORAL_MAX_BYTES = 256 * 2 ** 20;

type StepMode = 'state' | 'plan' | 'cpu' | 'defer';
type Planned = Uint8Array | PlannedBlend | Promise<PlannedBlend> | undefined;

/** What a step in any mode but `defer` returns: never a promise. */
function now(p: Planned): Exclude<Planned, Promise<PlannedBlend>> {
  if (p instanceof Promise) throw new Error('temporal: a deferred plan where one was needed at once');
  return p;
}

/**
 * Temporal stabilisation after the model: where the low-res input did not change, the output is a weighted mean
 * of the model's outputs for the last few frames, so texture the model invents anew each frame stops shimmering;
 * where it changed, the new output is kept as is. Blending reads the model's raw outputs (never its own blended
 * results), so the state at any frame is just the last `window − 1` frames since the last scene cut: see prime().
 */
export class TemporalStage implements FrameStage {
  readonly name = 'temporal';
  readonly strength: TemporalStrength;
  readonly params: TemporalParams;
  private readonly history: FrameHistory;
  private readonly motion?: MotionEstimator;
  private readonly unchanged?: (output: Uint8Array) => UnchangedTiles | undefined;
  private readonly warps?: WarpWorker;
  /** The blend in WebAssembly SIMD where it is available (blend-simd.ts); the same bytes as the typed arrays. */
  private simdBlend = SimdBlend.create();
  private cuts = 0;
  private blended = 0;

  constructor(opts: TemporalStageOptions = {}) {
    this.strength = opts.strength ?? DEFAULT_TEMPORAL_STRENGTH;
    this.params = { ...temporalParams(this.strength), ...opts.params };
    const keep = this.strength === 'off' ? 0 : Math.max(0, this.params.window - 1);
    this.history = new FrameHistory(keep, opts.maxBytes ?? DEFAULT_TEMPORAL_MAX_BYTES);
    this.motion = opts.motion;
    this.unchanged = opts.unchanged;
    this.warps = opts.warps;
    if (opts.blendThreads) this.simdBlend?.usePool(opts.blendThreads);
  }

  /** Scene cuts seen (history dropped) since the start. */
  get sceneCuts(): number {
    return this.cuts;
  }

  /** Frames that had at least one past frame to blend with. */
  get blendedFrames(): number {
    return this.blended;
  }

  /** Bytes of past frames held now (≤ maxBytes). */
  get heldBytes(): number {
    return this.history.byteLength;
  }

  /**
   * How many frames before a resume point prime() needs for the state to equal an uninterrupted run's: the blend
   * looks back `window − 1` frames, and nothing else carries over.
   */
  get primeFrames(): number {
    return this.history.capacity;
  }

  reset(): void {
    this.history.clear();
  }

  /**
   * Rebuilds the state for a resume: `frames` are the frames just before the resume point, in order, each with its
   * low-res input and the model's (raw) output for it — the last `primeFrames` are enough. Afterwards process()
   * returns for the next frame exactly what an uninterrupted run would have.
   */
  prime(frames: readonly PipelineFrame[]): void {
    this.reset();
    // Only the state: the outputs before the resume point are not needed, so nothing is blended.
    for (const f of frames.slice(-Math.max(1, this.primeFrames))) this.step(f, 'state');
  }

  process(frame: PipelineFrame): PipelineFrame {
    const planned = now(this.step(frame, 'cpu')) ?? frame.output;
    return withOutput(frame, planned instanceof Uint8Array ? planned : this.carryOut(frame.output, planned));
  }

  /**
   * The state advanced and the blend decided on the low-res input now; the per-output-pixel blend (with the rows of
   * its plan, planned as they are blended) when the returned function is called. It reads only this frame's output,
   * the past outputs it blends (never written again) and the plan, so it may run after later frames were split and
   * upscaled (the state, the reuse wrapper and the flows touch none of them; what the wrapper carried over is read
   * here, at once). FrameLoops runs it once the next frame is split and the one after is in the model. With a warp
   * worker the motion blend's low-res plan is computed there meanwhile, and the returned function awaits it.
   */
  split(frame: PipelineFrame): () => PipelineFrame | Promise<PipelineFrame> {
    const planned = this.planAhead(frame);
    if (planned instanceof Uint8Array) return () => withOutput(frame, planned);
    return async () => withOutput(frame, await this.carryOutLater(frame.output, await planned));
  }

  /** Carries a planned blend out on the CPU (SIMD where available, else the typed arrays): a new buffer, or raw. */
  carryOut(raw: Uint8Array, planned: PlannedBlend): Uint8Array {
    return blendPlanned(raw, planned, this.simdBlend);
  }

  /** carryOut() on the blend pool's threads where there are some: the same bytes, this thread free meanwhile. */
  carryOutLater(raw: Uint8Array, planned: PlannedBlend): Promise<Uint8Array> {
    return this.simdBlend ? this.simdBlend.blendLater(raw, planned) : Promise.resolve(this.carryOut(raw, planned));
  }

  /** Stops the blend pool's threads (a cancel, the run's end): a blend they had not finished rejects. */
  stopThreads(): void {
    this.simdBlend?.stopPool();
  }

  /**
   * The plan completed for a blend carried out elsewhere (the blend graph): its motion rows planned by the SIMD
   * module where there is one (the same numbers), else in TypeScript.
   */
  completeHere(raw: Uint8Array, planned: PlannedBlend): void {
    if (this.simdBlend) this.simdBlend.complete(raw, planned);
    else completePlan(planned);
  }

  /** The SIMD blend, where it is available and not turned off. */
  get simd(): SimdBlend | undefined {
    return this.simdBlend;
  }

  /**
   * The typed arrays from now on, not the SIMD blend (the same bytes): the job's frame memory has no room for the
   * SIMD blend's copies of the frames (pipeline/frame-checks.ts simdBlendBytes).
   */
  withoutSimd(): void {
    this.simdBlend?.usePool(0);
    this.simdBlend = undefined;
  }

  /**
   * Advances the state by `frame` and decides its blend on the low-res input: the output itself where nothing is
   * blended per block (or, for a non-integer scale, already blended), else the plan for blendOnCpu() or the blend
   * graph (blend-graph.ts) to carry out. process() = plan() + blendOnCpu().
   */
  plan(frame: PipelineFrame): Uint8Array | PlannedBlend {
    return now(this.step(frame, 'plan')) ?? frame.output;
  }

  /**
   * plan() for a stage that carries the blend out later (split()): the state advanced now; the plan's rows left to
   * be planned as they are blended (or by completePlan()), and with a warp worker the motion blend's low-res plan a
   * promise, computed there meanwhile.
   */
  planAhead(frame: PipelineFrame): Uint8Array | PlannedBlend | Promise<PlannedBlend> {
    return this.step(frame, this.warps ? 'defer' : 'cpu') ?? frame.output;
  }

  /**
   * `state`: advance only (priming); `plan`: and plan every row; `cpu`: rows left to be planned as they are blended;
   * `defer`: as `cpu`, the motion blend's low-res plan computed by the warp worker meanwhile (a promise of the plan).
   */
  private step(frame: PipelineFrame, mode: StepMode): Planned {
    if (this.history.capacity === 0) return undefined;
    const { width, height } = frame.inputSize;
    const luma = frameLuma(frame.input, width * height);
    const prev = this.history.at(0);
    if (prev && (prev.index !== frame.index - 1 || frameSceneCut(luma, prev.luma))) {
      if (prev.index === frame.index - 1) this.cuts++;
      this.history.clear();
    }
    const prevNow = this.history.at(0);
    const link = prevNow && this.motion ? this.motion.link(luma, prevNow.luma, width, height) : undefined;
    const planned = mode !== 'state' && this.history.size > 0 ? this.blend(frame, luma, link, mode) : undefined;
    this.history.push({ index: frame.index, luma, output: frame.output, link });
    return planned;
  }

  /**
   * The motion-compensated blend (integer scale, the pipeline's case): past outputs warped along the chain of
   * low-res flows — the current frame's link, then each past frame's own link to the one before it.
   */
  private planMoving(frame: PipelineFrame, luma: Uint8Array, link: MotionLink, size: PlanSize, mode: StepMode) {
    const raw = frame.output;
    const pasts: HistoryEntry[] = [];
    const links: MotionLink[] = [];
    for (let k = 0; k < this.history.size; k++) {
      const e = this.history.at(k);
      const l = k === 0 ? link : this.history.at(k - 1)?.link;
      if (!e || !l || e.output.length !== raw.length) break;
      pasts.push(e);
      links.push(l);
    }
    if (pasts.length > 0) this.blended++;
    const lazy = mode !== 'plan';
    // What the reuse wrapper carried over is read now: the next frame's upscale changes its state.
    const same = this.sameDepth(raw, size);
    const planOf = (warped: WarpedPast[]) => ({ plan: warpedPlan(raw, warped, size, lazy, same), size });
    if (mode === 'defer' && this.warps) {
      const job = this.warps.warpedPasts(luma, pasts, links, size, this.params).then(planOf);
      // Awaited when the frame is blended; a run stopped before that must not see it as unhandled.
      job.catch(() => {});
      return job;
    }
    return planOf(warpedPastsHere(luma, pasts, links, size, this.params));
  }

  /**
   * Per low-res pixel, how many of the newest past outputs hold exactly `raw`'s bytes for its block in place (tiles
   * the reuse wrapper carried over unchanged), as far as the history is the chain of outputs the wrapper made.
   * Blending a block with pasts that are its own bytes gives those bytes back (the weights sum to 1 within float32
   * rounding, far below the ½ level the result is rounded by), so such blocks keep the model's output without the
   * per-output-pixel work. Undefined when no past is shared.
   */
  private sameDepth(raw: Uint8Array, size: PlanSize): Uint8Array | undefined {
    if (!this.unchanged) return undefined;
    const first = this.unchanged(raw);
    let chain = 0;
    for (let out: Uint8Array = raw; chain < this.history.size; chain++) {
      const past = this.history.at(chain)?.output;
      if (!past || this.unchanged(out)?.prev !== past) break;
      out = past;
    }
    if (!first || chain === 0) return undefined;
    const { width: w, height: h } = size;
    const { runs, tile, cols } = first;
    const depth = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      const row = ((y / tile) | 0) * cols;
      for (let x = 0, p = y * w; x < w; x++, p++) {
        const r = runs[row + ((x / tile) | 0)];
        depth[p] = Math.min(r, chain);
      }
    }
    return depth;
  }

  private blend(frame: PipelineFrame, luma: Uint8Array, link: MotionLink | undefined, mode: StepMode) {
    const { width: iw, height: ih } = frame.inputSize;
    const { width: ow, height: oh } = frame.outputSize;
    const raw = frame.output;
    if (raw.length !== ow * oh * 3)
      throw new RangeError(`temporal: output has ${raw.length} bytes, expected ${ow * oh * 3}`);
    const integer = ow % iw === 0 && oh % ih === 0 && ow / iw === oh / ih;
    const size: PlanSize = { width: iw, height: ih, scale: ow / iw };
    if (link && integer) return this.planMoving(frame, luma, link, size, mode);
    // Per low-res pixel and past frame k: decay^k × (static since frame t−k), non-increasing in k.
    const entries: HistoryEntry[] = [];
    for (let k = 0; k < this.history.size; k++) {
      const e = this.history.at(k);
      if (!e || e.output.length !== raw.length) break;
      entries.push(e);
    }
    if (entries.length === 0) return undefined;
    this.blended++;
    const lumas = entries.map((e) => e.luma);
    const pasts = entries.map((e) => e.output);
    if (integer) {
      const still = { cur: luma, lumas, t: this.params, same: this.sameDepth(raw, size) };
      const planned = { plan: stillPlan(still, pasts, size), size };
      return mode === 'plan' ? { plan: completePlan(planned), size } : planned;
    }
    const out = Buffer.allocUnsafeSlow(raw.length);
    out.set(raw);
    blendMapped(raw, pasts, stillWeights(luma, lumas, iw, ih, this.params), out, iw, ih, ow, oh);
    return out;
  }
}

/** The frame with `output` in place of its own (the same frame when it is the same buffer). */
export function withOutput(frame: PipelineFrame, output: Uint8Array): PipelineFrame {
  return output === frame.output ? frame : { ...frame, output: output as Buffer };
}

/** Any other size ratio: each output pixel takes the weights of the low-res pixel it falls in. */
function blendMapped(
  raw: Uint8Array,
  pasts: Uint8Array[],
  weights: Float32Array[],
  out: Uint8Array,
  iw: number,
  ih: number,
  ow: number,
  oh: number,
): void {
  const xmap = new Int32Array(ow);
  for (let x = 0; x < ow; x++) xmap[x] = Math.min(iw - 1, Math.floor((x * iw) / ow));
  const m = weights.length;
  const wl = new Float32Array(m);
  for (let y = 0; y < oh; y++) {
    const row = Math.min(ih - 1, Math.floor((y * ih) / oh)) * iw;
    let i = y * ow * 3;
    for (let x = 0; x < ow; x++, i += 3) {
      const p = row + xmap[x];
      let sum = 1;
      for (let k = 0; k < m; k++) {
        wl[k] = weights[k][p];
        sum += wl[k];
      }
      if (sum === 1) continue;
      const norm = 1 / sum;
      for (let c = 0; c < 3; c++) {
        let acc = raw[i + c];
        for (let k = 0; k < m; k++) acc += wl[k] * pasts[k][i + c];
        out[i + c] = acc * norm + 0.5;
      }
    }
  }
}
