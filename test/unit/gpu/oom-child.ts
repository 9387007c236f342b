/**
 * Child process for the OOM tests: loads the real model, warms it up, then caps its OWN address space with
 * `prlimit --pid <self> --as=<current + headroom>` and upscales one frame through OomDegradingUpscaler. A relative
 * cap (taken after start-up) keeps the test independent of how much virtual memory node and ORT reserve at load.
 * Prints one JSON line: the warnings, the final tile and the output's digest, or the error.
 *
 * argv: <frameSide> <headroomMiB> <minTile>
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EngineError } from '../../../src/engine/errors';
import { OomDegradingUpscaler, type OomWarning } from '../../../src/engine/gpu/oom';
import { RetilingTileUpscaler } from '../../../src/engine/gpu/retiling-upscaler';
import { loadModel } from '../../../src/engine/model/loader';
import { testFrame } from './frames';

const [side, headroomMiB, minTile] = process.argv.slice(2).map(Number);

function vmSizeBytes(): number {
  const m = /^VmSize:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error('no VmSize in /proc/self/status');
  return Number(m[1]) * 1024;
}

async function main(): Promise<void> {
  const model = await loadModel('realesr-animevideov3-x4', { intraOpNumThreads: 1 });
  const warnings: OomWarning[] = [];
  const upscaler = new OomDegradingUpscaler(new RetilingTileUpscaler(model, 0, 12), {
    minTile,
    onWarning: (w) => warnings.push(w),
  });
  await upscaler.upscale(testFrame(64, 64), 64, 64); // warm-up: the session's one-off allocations happen here
  const limit = vmSizeBytes() + headroomMiB * 2 ** 20;
  execFileSync('prlimit', ['--pid', String(process.pid), `--as=${limit}`]);
  try {
    const out = await upscaler.upscale(testFrame(side, side), side, side);
    const sha256 = createHash('sha256').update(out).digest('hex');
    process.stdout.write(`${JSON.stringify({ ok: true, warnings, tile: upscaler.tile, bytes: out.length, sha256 })}\n`);
  } catch (err) {
    const e = err as Error;
    const reason = err instanceof EngineError ? err.reason : undefined;
    const hint = err instanceof EngineError ? err.hint : undefined;
    process.stdout.write(
      `${JSON.stringify({ ok: false, warnings, tile: upscaler.tile, reason, hint, message: e.message })}\n`,
    );
  }
}

void main();
