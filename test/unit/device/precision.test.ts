import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pixelParams } from '../../../src/engine/checkpoint/pixel-params';
import { openModel } from '../../../src/engine/device/open-model';
import {
  openWithPrecision,
  type PrecisionChoice,
  parsePrecisionOption,
  pinnedPrecision,
  wantedPrecision,
} from '../../../src/engine/device/precision';
import type { ProviderName } from '../../../src/engine/device/providers';
import {
  autoPicksInt8,
  Fp16UnavailableError,
  Int8UnavailableError,
  type LoadedModel,
  listModels,
  loadModel,
  modelsDir,
  type Precision,
} from '../../../src/engine/model/loader';
import { freshDir } from '../engine/helpers';
import { singleOpModel } from '../model/tiny-onnx';

const MODEL = 'realesr-animevideov3-x4';

/**
 * The real loader on the CPU provider. With `noCpuFallback` onnxruntime refuses the session ("nodes assigned to
 * the default CPU EP, but fallback to CPU EP has been explicitly disabled"): the same refusal a GPU provider
 * without fp16 kernels gives, raised here by onnxruntime itself rather than imitated.
 */
function realLoad(ref = MODEL, calls: string[] = []) {
  return (precision: Precision, noCpuFallback: boolean): Promise<LoadedModel> => {
    calls.push(`${precision}${noCpuFallback ? '!' : ''}`);
    return loadModel(ref, { executionProviders: ['cpu'], intraOpNumThreads: 1, precision, noCpuFallback });
  };
}

describe('gpu/precision: choosing fp16 or fp32', function () {
  this.timeout(60_000);

  it('--precision parses auto|fp16|fp32|int8 (any case), default auto; anything else is refused by name', () => {
    assert.equal(parsePrecisionOption(undefined), 'auto');
    assert.equal(parsePrecisionOption('FP16'), 'fp16');
    assert.equal(parsePrecisionOption('INT8'), 'int8');
    assert.throws(() => parsePrecisionOption('half'), /--precision must be one of auto, fp16, fp32, int8, got "half"/);
  });

  it('auto is fp16 on CUDA, TensorRT, DirectML and WebGPU, fp32 on the CPU and CoreML; explicit choices are kept', () => {
    const table: [PrecisionChoice, ProviderName, Precision][] = [
      ['auto', 'cuda', 'fp16'],
      ['auto', 'tensorrt', 'fp16'],
      ['auto', 'webgpu', 'fp16'],
      ['auto', 'dml', 'fp16'],
      ['auto', 'coreml', 'fp32'],
      ['auto', 'cpu', 'fp32'],
      ['fp16', 'coreml', 'fp16'],
      ['fp32', 'cuda', 'fp32'],
      ['fp16', 'cpu', 'fp16'],
    ];
    for (const [choice, provider, want] of table) assert.equal(wantedPrecision(choice, provider), want);
  });

  it('auto on the CPU loads fp32 once, with no warning', async () => {
    const calls: string[] = [];
    const { model, warnings } = await openWithPrecision('auto', 'cpu', realLoad(MODEL, calls));
    await model.session.release();
    assert.equal(model.precision, 'fp32');
    assert.deepEqual(calls, ['fp32']);
    assert.deepEqual(warnings, []);
  });

  it('explicit fp16 on the CPU is honoured (no CPU-fallback guard: the CPU is the provider)', async () => {
    const calls: string[] = [];
    const { model } = await openWithPrecision('fp16', 'cpu', realLoad(MODEL, calls));
    await model.session.release();
    assert.equal(model.precision, 'fp16');
    assert.deepEqual(calls, ['fp16']);
  });

  it('auto on a GPU provider that refuses the fp16 session: fp32 on the same provider, one warning why', async () => {
    const calls: string[] = [];
    const { model, warnings } = await openWithPrecision('auto', 'webgpu', realLoad(MODEL, calls));
    await model.session.release();
    assert.equal(model.precision, 'fp32');
    assert.deepEqual(calls, ['fp16!', 'fp32'], 'fp16 tried with every node pinned to the provider, then fp32');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].code, 'fp16-unavailable');
    assert.match(
      warnings[0].message,
      /^WebGPU cannot run this model in fp16 \(.*fallback to CPU EP has been explicitly disabled/,
    );
    assert.match(warnings[0].message, /--precision fp32/);
  });

  it('explicit fp16 refused on a GPU provider is not downgraded: the refusal goes to provider selection', async () => {
    await assert.rejects(
      openWithPrecision('fp16', 'cuda', realLoad()),
      (e: unknown) => e instanceof Fp16UnavailableError,
    );
  });

  it('a model without an fp16 form runs fp32 under auto, and the warning names the operator', async () => {
    const dir = freshDir('huaju4k-precision-');
    try {
      const file = join(dir, 'softmax.onnx');
      writeFileSync(file, singleOpModel('Softmax', [1, 3, 'h', 'w'], [1, 3, 'h', 'w']));
      const calls: string[] = [];
      const { model, warnings } = await openWithPrecision('auto', 'cuda', realLoad(file, calls));
      await model.session.release();
      assert.equal(model.precision, 'fp32');
      assert.deepEqual(calls, ['fp16!', 'fp32']);
      assert.match(warnings[0]?.message ?? '', /softmax\.onnx has no fp16 form: it uses Softmax/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('openModel: fp16 calibrates under its own cache key, next to fp32', async () => {
    const dir = freshDir('huaju4k-precision-');
    const file = join(dir, 'calibration.json');
    try {
      for (const precision of ['fp16', 'fp32'] as const) {
        const opened = await openModel({
          modelRef: MODEL,
          ep: 'cpu',
          precision,
          vramBudgetBytes: 2 ** 30,
          tile: 'auto',
          frame: { width: 64, height: 36 },
          pad: 12,
          intraOpNumThreads: 1,
          calibrationFile: file,
        });
        await opened.model.session.release();
        assert.equal(opened.model.precision, precision);
        assert.equal(opened.plan?.source, 'calibrated');
      }
      const keys = Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { entries: object }).entries);
      assert.equal(keys.length, 2);
      assert.equal(keys.filter((k) => k.endsWith('|fp16')).length, 1, keys.join(', '));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('gpu/precision: int8 on the CPU', function () {
  this.timeout(60_000);

  it('auto on the CPU is int8 only for a model whose verified int8 models.json marks for auto; GPUs as before', () => {
    assert.equal(wantedPrecision('auto', 'cpu', true), 'int8');
    assert.equal(wantedPrecision('auto', 'cpu', false), 'fp32');
    assert.equal(wantedPrecision('auto', 'cuda', true), 'fp16');
    assert.equal(wantedPrecision('auto', 'coreml', true), 'fp32');
    assert.equal(wantedPrecision('int8', 'cpu'), 'int8');
    assert.equal(autoPicksInt8(join(modelsDir(), `${MODEL}.onnx`)), false, 'a path has no verified variant');
    for (const m of listModels()) assert.equal(autoPicksInt8(m.id), m.int8?.auto === true, m.id);
  });

  it('explicit int8 on the CPU loads the int8 variant; on a GPU provider it is refused before loading', async () => {
    const calls: string[] = [];
    const { model, warnings } = await openWithPrecision('int8', 'cpu', realLoad(MODEL, calls));
    await model.session.release();
    assert.equal(model.precision, 'int8');
    assert.deepEqual([calls, warnings], [['int8'], []]);
    const gpuCalls: string[] = [];
    await assert.rejects(
      openWithPrecision('int8', 'cuda', realLoad(MODEL, gpuCalls)),
      (e: unknown) => e instanceof Int8UnavailableError && /CPU only/.test(e.message),
    );
    assert.deepEqual(gpuCalls, []);
  });

  it('a resumed auto job keeps the precision its checkpoint recorded; pixel params record fp16 and int8', () => {
    assert.deepEqual(['int8', 'fp16', undefined, 'bogus'].map(pinnedPrecision), ['int8', 'fp16', 'fp32', 'fp32']);
    const params = (precision: Precision, int8Sha256?: string) =>
      pixelParams({
        modelSha256: 's',
        modelScale: 4,
        precision,
        int8Sha256,
        target: { width: 640, height: 360 },
        tile: 0,
        encoder: { codec: 'libx264', threads: 1 },
        segmentFrames: 240,
      });
    assert.equal(params('int8').precision, 'int8');
    assert.equal(params('fp32').precision, undefined, 'fp32 keeps the shape checkpoints had before');
    assert.equal(pinnedPrecision(params('int8').precision), 'int8', 'what is written is what a resume reads');
    assert.equal(params('int8', 'v2').int8, 'v2', 'a recalibrated int8 variant is another job');
    assert.notDeepEqual(params('int8', 'v1'), params('int8', 'v2'));
    assert.equal(params('fp32', 'v2').int8, undefined);
  });
});
