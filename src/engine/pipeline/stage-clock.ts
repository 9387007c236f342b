import type { StageMs } from '../../protocol/engine-events';

/** Running average of stage times (ms per frame). */
export class StageClock {
  private sums = { decode: 0, infer: 0, temporal: 0, encode: 0 };
  private counts = { decode: 0, infer: 0, temporal: 0, encode: 0 };
  private frames = 0;
  private steadySum = 0;

  /**
   * The model loop's period for one frame (from the frame before it leaving to this one leaving, waits included); the
   * first frame (warm-up: first model run, empty history, the first decode) is left out.
   */
  addFrame(ms: number): void {
    if (this.frames++ > 0) this.steadySum += ms;
  }

  /** Mean model-loop period a frame after the first, ms: the pipeline's steady rate; undefined before a second frame. */
  get steadyFrameMs(): number | undefined {
    return this.frames > 1 ? this.steadySum / (this.frames - 1) : undefined;
  }

  add(stage: keyof StageClock['sums'], ms: number): void {
    this.sums[stage] += ms;
    this.counts[stage]++;
  }
  snapshot(withTemporal: boolean): StageMs {
    const avg = (k: keyof StageClock['sums']) => (this.counts[k] ? this.sums[k] / this.counts[k] : 0);
    const s: StageMs = { decode: avg('decode'), infer: avg('infer'), encode: avg('encode') };
    if (withTemporal) s.temporal = avg('temporal');
    return s;
  }
}
