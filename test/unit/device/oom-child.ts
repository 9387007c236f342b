/**
 * Child process for the OOM tests: loads the real model, warms it up, then caps its OWN writable memory with
 * `prlimit --pid <self> --data=<current + headroom>` (RLIMIT_DATA) and upscales one frame through
 * OomDegradingUpscaler, so onnxruntime's arena really fails to grow for the whole frame. The cap is relative (taken
 * after start-up) so the test does not depend on how much node and ORT map at load; RLIMIT_DATA rather than
 * RLIMIT_AS because address-space reservations (V8's, glibc's per-thread arenas) would count against RLIMIT_AS and
 * make V8 itself die at random instead of ORT failing. Prints one JSON line: warnings, final tile, output digest, or
 * the error.
 *
 * What fails must be ORT, and what it held must come back, or V8 (or the frame's copy out of the worker) dies in the
 * few MiB ORT left: with its CPU arena on, ORT keeps every chunk it grew up to the failure (measured: 0.4–7 MiB of a
 * 256 MiB headroom left, so 1 run in 4 died in V8), and glibc keeps freed blocks below its sliding mmap threshold. So
 * the session runs without the arena (`cpuMemArena: false`) and the test fixes glibc's threshold
 * (MALLOC_MMAP_THRESHOLD_): after the whole frame fails, ~115 of 128 MiB are free again, every run.
 *
 * argv: <frameSide> <headroomMiB> <minTile> [thread|worker]: the model in this thread (RetilingTileUpscaler) or in
 * the engine's inference worker (WorkerUpscaler: the error crosses the thread boundary, the tile change is a message).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { OomDegradingUpscaler, type OomWarning, type RetileableUpscaler } from '../../../src/engine/device/oom';
import { RetilingTileUpscaler } from '../../../src/engine/device/retiling-upscaler';
import { EngineError } from '../../../src/engine/errors';
import { WorkerUpscaler } from '../../../src/engine/inference/infer-worker';
import { loadModel } from '../../../src/engine/model/loader';
import { testFrame } from './frames';

const [side, headroomMiB, minTile] = process.argv.slice(2, 5).map(Number);
const where = process.argv[5] ?? 'thread';
const MODEL = 'realesr-animevideov3-x4';

function vmDataBytes(): number {
  const m = /^VmData:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error('no VmData in /proc/self/status');
  return Number(m[1]) * 1024;
}

async function main(): Promise<void> {
  let inner: RetileableUpscaler;
  let close = async () => {};
  if (where === 'worker') {
    const w = await WorkerUpscaler.start({
      modelRef: MODEL,
      tile: 0,
      pad: 12,
      ep: 'cpu',
      intraOpNumThreads: 1,
      cpuMemArena: false,
    });
    inner = w;
    close = () => w.close();
  } else {
    inner = new RetilingTileUpscaler(await loadModel(MODEL, { intraOpNumThreads: 1, cpuMemArena: false }), 0, 12);
  }
  const warnings: OomWarning[] = [];
  const upscaler = new OomDegradingUpscaler(inner, { minTile, onWarning: (w) => warnings.push(w) });
  await upscaler.upscale(testFrame(64, 64), 64, 64); // warm-up: the session's one-off allocations happen here
  const limit = vmDataBytes() + headroomMiB * 2 ** 20;
  execFileSync('prlimit', ['--pid', String(process.pid), `--data=${limit}`]);
  let report: Record<string, unknown>;
  try {
    const out = await upscaler.upscale(testFrame(side, side), side, side);
    const sha256 = createHash('sha256').update(out).digest('hex');
    report = { ok: true, warnings, tile: upscaler.tile, bytes: out.length, sha256 };
  } catch (err) {
    const e = err as Error;
    const reason = err instanceof EngineError ? err.reason : undefined;
    const hint = err instanceof EngineError ? err.hint : undefined;
    report = { ok: false, warnings, tile: upscaler.tile, reason, hint, message: e.message };
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
  await close();
}

void main();
