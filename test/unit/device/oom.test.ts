import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  halveTile,
  isAllocationFailure,
  OomDegradingUpscaler,
  type OomWarning,
  type RetileableUpscaler,
} from '../../../src/engine/device/oom';
import { RetilingTileUpscaler } from '../../../src/engine/device/retiling-upscaler';
import { EngineError } from '../../../src/engine/errors';
import { loadModel } from '../../../src/engine/model/loader';
import { ExitCode } from '../../../src/protocol/engine-events';
import { testFrame } from './frames';

const CHILD = join(__dirname, 'oom-child.ts');

interface ChildReport {
  ok: boolean;
  warnings: OomWarning[];
  tile: number;
  bytes?: number;
  sha256?: string;
  reason?: string;
  hint?: string;
  message?: string;
}

/** Runs oom-child.ts, which caps its own address space after warm-up (see there). */
function runChild(side: number, headroomMiB: number, minTile: number, where = 'thread'): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CHILD, String(side), String(headroomMiB), String(minTile), where],
      // A fixed mmap threshold: blocks ORT frees after its failure go back to the system at once (see oom-child.ts).
      { timeout: 120_000, maxBuffer: 1 << 20, env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '65536' } },
      (err, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('{'));
        if (!line) return reject(new Error(`child printed no report (${err?.message})\n${stderr.slice(-2000)}`));
        resolve(JSON.parse(line) as ChildReport);
      },
    );
  });
}

const hasPrlimit = (() => {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return process.platform === 'linux';
  } catch {
    return false;
  }
})();

// Captured from onnxruntime-node 1.30 (CPU arena under an address-space cap) and from CUDA/WebGPU runs people posted.
const ORT_CPU_OOM =
  "Non-zero status code returned while running Conv node. Name:'54_nchwc' Status Message: /onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:360 void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*) Failed to allocate memory for requested buffer of size 67108864";

describe('gpu/oom: allocation failures', () => {
  it('recognises allocation failures from the CPU arena, CUDA, cuDNN and bad_alloc, and nothing else', () => {
    const yes = [
      ORT_CPU_OOM,
      '/onnxruntime_src/onnxruntime/core/providers/cuda/cuda_call.cc:123 std::conditional_t<THRW, void, onnxruntime::common::Status> onnxruntime::CudaCall(...) [with ERRTYPE = cudaError; bool THRW = true] CUDA failure 2: out of memory ; GPU=0 ; hostname=x ; expr=cudaMalloc((void**)&p, size);',
      'CUDNN failure 4: CUDNN_STATUS_ALLOC_FAILED ; GPU=0',
      'std::bad_alloc',
    ];
    for (const m of yes) assert.equal(isAllocationFailure(new Error(m)), true, m);
    const no = [
      'Got invalid dimensions for input: input for the following indices index: 1 Got: 4 Expected: 3',
      'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
      'model returned 40x40 for a 12x12 tile, expected ×4',
    ];
    for (const m of no) assert.equal(isAllocationFailure(new Error(m)), false, m);
    // An EngineError is already a decision (e.g. the wrapper's own give-up); never retried.
    assert.equal(
      isAllocationFailure(new EngineError(ExitCode.environment, 'out-of-memory', 'Failed to allocate memory')),
      false,
    );
  });

  it('halves tiles to multiples of 8', () => {
    assert.deepEqual([1920, 512, 500, 100, 30, 16].map(halveTile), [960, 256, 248, 48, 15, 8]);
  });
});

/**
 * Writable memory the child may add after warm-up: the whole 512×512 frame needs far more (ORT asks for 64 MiB
 * buffers), tile 256 fits. With the arena off and glibc's threshold fixed (oom-child.ts) ~115 MiB are free again
 * after the whole frame fails, so V8 and the frame's copy out of the worker always have room.
 */
const HEADROOM_MIB = 128;

describe('gpu/oom: OomDegradingUpscaler under a real memory cap (prlimit --data)', function () {
  this.timeout(180_000);
  before(function () {
    if (!hasPrlimit) this.skip();
  });

  it('halves the tile when ORT cannot allocate the whole frame and retries the same frame to a correct result', async () => {
    const report = await runChild(512, HEADROOM_MIB, 64);
    assert.equal(report.ok, true, report.message);
    assert.ok(report.warnings.length >= 1, 'at least one halving');
    assert.ok(report.warnings.every((w) => w.code === 'oom-tile-halved'));
    assert.match(report.warnings[0].message, /out of memory at tile whole frame 512x512/);
    assert.match(report.warnings[0].message, /Failed to allocate memory|bad_alloc/);
    assert.match(report.warnings[0].message, /retrying the frame with tile 256/);
    assert.equal(report.tile, 256);
    assert.equal(report.bytes, 2048 * 2048 * 3);
    // The retried frame is exactly what the same tile gives without any memory cap.
    const model = await loadModel('realesr-animevideov3-x4', { intraOpNumThreads: 1 });
    try {
      const ref = await new RetilingTileUpscaler(model, report.tile, 12).upscale(testFrame(512, 512), 512, 512);
      assert.equal(report.sha256, createHash('sha256').update(ref).digest('hex'));
    } finally {
      await model.session.release();
    }
  });

  it('the same through the engine’s inference worker: the error crosses the thread, the new tile is a message', async () => {
    const report = await runChild(512, HEADROOM_MIB, 64, 'worker');
    assert.equal(report.ok, true, report.message);
    assert.ok(report.warnings.length >= 1 && report.warnings.every((w) => w.code === 'oom-tile-halved'));
    assert.match(
      report.warnings[0].message,
      /whole frame 512x512 \(.*(Failed to allocate memory|bad_alloc).*\); retrying the frame with tile 256/,
    );
    assert.equal(report.tile, 256);
    assert.equal(report.bytes, 2048 * 2048 * 3);
  });

  it('gives up with an out-of-memory EngineError (reason, tiles tried, hint) when the next tile is below the minimum', async () => {
    const report = await runChild(512, HEADROOM_MIB, 384);
    assert.equal(report.ok, false);
    assert.equal(report.reason, 'out-of-memory');
    assert.match(report.message ?? '', /tried whole frame 512x512; the next halving, 256, is below the minimum 384/);
    assert.match(report.message ?? '', /Failed to allocate memory|bad_alloc/);
    assert.ok((report.hint ?? '').length > 10);
    assert.deepEqual(report.warnings, []);
  });
});

describe('gpu/oom: wrapper contract', () => {
  /** An inner upscaler that fails in a scripted way (the failure paths a real model only shows under pressure). */
  class Scripted implements RetileableUpscaler {
    readonly scale = 4;
    tile = 0;
    readonly tiles: number[] = [];
    constructor(private readonly fail: (tile: number) => Error | undefined) {}
    setTile(t: number) {
      this.tile = t;
    }
    async upscale(): Promise<Buffer> {
      this.tiles.push(this.tile);
      const e = this.fail(this.tile);
      if (e) throw e;
      return Buffer.alloc(4);
    }
  }

  it('passes other errors through untouched, without retrying', async () => {
    const boom = new Error('model returned 40x40 for a 12x12 tile, expected ×4');
    const inner = new Scripted(() => boom);
    const w = new OomDegradingUpscaler(inner, { onWarning: () => assert.fail('no warning') });
    await assert.rejects(w.upscale(new Uint8Array(3), 1, 1), (e) => e === boom);
    assert.deepEqual(inner.tiles, [0]);
  });

  it('keeps the smaller tile for later frames and halves again if needed', async () => {
    const inner = new Scripted((t) => (t === 0 || t > 200 ? new Error(ORT_CPU_OOM) : undefined));
    const warnings: OomWarning[] = [];
    const w = new OomDegradingUpscaler(inner, { onWarning: (x) => warnings.push(x) });
    await w.upscale(new Uint8Array(3 * 800 * 600), 800, 600);
    await w.upscale(new Uint8Array(3 * 800 * 600), 800, 600);
    assert.deepEqual(inner.tiles, [0, 400, 200, 200]);
    assert.equal(w.tile, 200);
    assert.deepEqual(
      warnings.map((x) => x.message.replace(/ \(.*\)/, '')),
      [
        'out of memory at tile whole frame 800x600; retrying the frame with tile 400',
        'out of memory at tile 400; retrying the frame with tile 200',
      ],
    );
  });
});
