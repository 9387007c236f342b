import type { StageMs } from '../../protocol/engine-events';

/** Running average of stage times (ms per frame). */
export class StageClock {
  private sums = { decode: 0, infer: 0, temporal: 0, encode: 0 };
  private counts = { decode: 0, infer: 0, temporal: 0, encode: 0 };
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
