import { createInterface } from 'node:readline';
import { CancelledError } from '../errors';
import type { EnhanceContext, EnhanceOptions } from '../pipeline/pipeline-types';
import { parseRangeSpec, rangeName } from './farm-args';
import { runRange } from './run-range';

/**
 * `enhance --range -`: a long-lived range engine. Everything a range needs that does not depend on the range (the
 * bundle, the probe, the model in its worker) is set up once by the caller; then the ranges to run come from stdin,
 * one `first:end` a line, and each ends with a `range done` event. `contextFor` gives each range a fresh temporal
 * state (reuse, window, flows), so a range's frames do not depend on the ranges this engine ran before it.
 *
 * stdin closed between ranges: the engine ends (exit 0). Closed while a range runs — the worker or coordinator died —
 * `lostParent` stops the run (errors.ts PARENT_GONE): the range's finished segments are kept and its open segment is
 * dropped, so whoever takes the range over redoes it whole and the job joins to the frames of an uninterrupted run
 * (a segment closed short would, with a lossy encoder, decode to other frames). A range that fails ends the engine
 * with that error; its coordinator starts a new engine for the next range.
 */
export async function serveRanges(
  opts: EnhanceOptions,
  contextFor: () => Promise<EnhanceContext>,
  lostParent: () => void,
): Promise<void> {
  let busy = false;
  const onEnd = () => (busy ? lostParent() : undefined);
  process.stdin.on('end', onEnd);
  process.stdin.on('error', onEnd);
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  const onAbort = () => lines.close();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const line of lines) {
      if (opts.signal?.aborted) break;
      if (!line.trim()) continue;
      const spec = parseRangeSpec(line.trim());
      busy = true;
      // A range keeps what the job's checkpoint pinned (tile, precision, encoder threads), as a resume does.
      const ctx = await contextFor();
      const { frames } = await runRange({ ...opts, resume: true }, ctx, spec);
      busy = false;
      const worker = `pid ${process.pid}`;
      ctx.emit({ type: 'range', range: rangeName(spec), worker, state: 'done', frames, total: frames });
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    process.stdin.off('end', onEnd);
    process.stdin.off('error', onEnd);
    lines.close();
  }
  if (opts.signal?.aborted) throw new CancelledError(String(opts.signal.reason ?? 'signal'));
}
