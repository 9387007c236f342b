import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseEnhanceArgs } from '../../../src/engine/args';
import {
  checkGpuChoice,
  GpuChoiceError,
  gpuFromEnv,
  parseGpu,
  providerEntry,
  smiIndex,
} from '../../../src/engine/device/gpu-choice';
import { openModel } from '../../../src/engine/device/open-model';
import { explainProviderError } from '../../../src/engine/device/providers';
import { EngineError } from '../../../src/engine/errors';
import { deviceWorkerOptions, parseDevices } from '../../../src/hub/ai/ai-settings';
import { parseHubArgs } from '../../../src/hub/cli';
import { resolveHubConfig } from '../../../src/hub/config';
import type { WarningEvent } from '../../../src/protocol/engine-events';
import type { AiStatus } from '../../../src/protocol/hub-status';
import { basicClip, FAST_MODEL, freshDir, runCli } from '../engine/helpers';
import { closeHubs, startHub } from '../hub/helpers';

describe('device/gpu-choice: which GPU a model opens on', () => {
  it('CUDA, TensorRT and DirectML get the index as their deviceId; the others take the system default', () => {
    assert.deepEqual(providerEntry('cuda', 1), { name: 'cuda', deviceId: 1 });
    assert.deepEqual(providerEntry('tensorrt', 2), { name: 'tensorrt', deviceId: 2 });
    assert.deepEqual(providerEntry('dml', 0), { name: 'dml', deviceId: 0 });
    assert.equal(providerEntry('cuda', undefined), 'cuda');
    assert.equal(providerEntry('webgpu', 1), 'webgpu');
    assert.equal(providerEntry('cpu', 3), 'cpu');
  });

  it('WebGPU and CoreML refuse any GPU but the first, saying which providers can choose one', () => {
    assert.doesNotThrow(() => checkGpuChoice('webgpu', 0));
    assert.doesNotThrow(() => checkGpuChoice('cuda', 5));
    assert.doesNotThrow(() => checkGpuChoice('cpu', 5));
    assert.throws(() => checkGpuChoice('webgpu', 1), GpuChoiceError);
    assert.throws(() => checkGpuChoice('coreml', 2), /cannot choose GPU 2: CoreML/);
    let message = '';
    try {
      checkGpuChoice('webgpu', 1);
    } catch (err) {
      message = (err as Error).message;
    }
    const why = explainProviderError('webgpu', message);
    assert.match(why.reason, /cannot choose GPU 1: WebGPU/);
    assert.match(why.hint, /CUDA and TensorRT .* DirectML .* GPU 1/);
  });

  it('HUAJU4K_GPU and --gpu take an index; nvidia-smi counts past CUDA_VISIBLE_DEVICES', () => {
    assert.equal(gpuFromEnv({}), undefined);
    assert.equal(gpuFromEnv({ HUAJU4K_GPU: '1' }), 1);
    assert.throws(() => gpuFromEnv({ HUAJU4K_GPU: 'one' }), /HUAJU4K_GPU must be a GPU index/);
    assert.throws(() => parseGpu('-1'), /--gpu must be a GPU index/);
    assert.equal(smiIndex(1, {}), 1);
    assert.equal(smiIndex(0, { CUDA_VISIBLE_DEVICES: '2,3' }), 2);
    assert.equal(smiIndex(1, { CUDA_VISIBLE_DEVICES: '2,3' }), 3);
    assert.equal(smiIndex(1, { CUDA_VISIBLE_DEVICES: 'GPU-5f2e' }), 1);
  });

  it('enhance --gpu: an index, or a usage error; not together with --devices', () => {
    assert.equal(parseEnhanceArgs(['in.mp4']).gpu, undefined);
    assert.equal(parseEnhanceArgs(['in.mp4', '--gpu', '1']).gpu, 1);
    const usage = (argv: string[], re: RegExp) =>
      assert.throws(
        () => parseEnhanceArgs(argv),
        (e: unknown) => e instanceof EngineError && e.code === 2 && re.test(e.message),
      );
    usage(['in.mp4', '--gpu', 'first'], /--gpu must be a GPU index/);
    usage(['in.mp4', '--gpu', '1', '--devices', '0,1'], /--devices 0,1 or --gpu n, not both/);
  });

  it('the hub takes one AI worker per GPU index, each opening its own; a GPU listed twice is refused', () => {
    assert.deepEqual(parseDevices('0,1'), [
      { id: '0', kind: 'gpu' },
      { id: '1', kind: 'gpu' },
    ]);
    const c = resolveHubConfig({ flags: parseHubArgs(['--devices', 'cpu,1']).flags });
    const ai = { ...c.ai, maxFrameAgeMs: 1000, ffmpeg: 'ffmpeg' };
    const [cpu, gpu1] = ai.devices.map((d) => deviceWorkerOptions(ai, d, 1));
    assert.equal(cpu.gpu, undefined);
    assert.deepEqual([gpu1.ep, gpu1.gpu], ['auto', 1]);
    assert.throws(() => parseDevices('1,1'), /GPU 1 is listed twice/);
    assert.throws(() => parseDevices('gpu,0'), /GPU 0 is listed twice/);
    assert.doesNotThrow(() => parseDevices('cpu,cpu'));
  });
});

describe('device/gpu-choice in real runs (ORT, ffmpeg)', function () {
  this.timeout(180_000);
  const open = (ep: 'webgpu' | 'auto', gpu: number) =>
    openModel({
      modelRef: FAST_MODEL,
      ep,
      gpu,
      vramBudgetBytes: 2 ** 30,
      tile: 64,
      frame: { width: 64, height: 36 },
      pad: 12,
    });

  before(function () {
    // Every platform's onnxruntime-node ships WebGPU; a build without it has nothing to refuse here.
    if (!ort.listSupportedBackends().some((b) => b.name === 'webgpu')) this.skip();
  });

  it('--ep webgpu on GPU 1 is refused before any session, with the reason and what to do', async () => {
    await assert.rejects(open('webgpu', 1), /cannot choose GPU 1: WebGPU/);
  });

  it('--ep auto on GPU 1 passes WebGPU over with that reason instead of running on GPU 0', async () => {
    const opened = await open('auto', 1);
    try {
      const webgpu = opened.warnings.find((w) => /WebGPU not used/.test(w.message));
      assert.ok(webgpu, opened.warnings.map((w) => w.message).join('\n'));
      assert.match(webgpu.message, /cannot choose GPU 1/);
      assert.notEqual(opened.provider, 'webgpu');
    } finally {
      await opened.model.session.release();
    }
  });

  it('enhance --gpu 1 runs, and says in a warning where GPU 1 could not be chosen', async () => {
    const dir = freshDir('huaju4k-gpu-choice-');
    try {
      const r = await runCli(
        ['enhance', basicClip(), '-o', join(dir, 'o.mp4'), '--model', FAST_MODEL, '--gpu', '1', '--scale', '2'].concat([
          '--max-frames',
          '2',
          '--temporal',
          'off',
          '--tile',
          '0',
          '--json',
        ]),
      );
      assert.equal(r.code, 0, r.stderr);
      const start = r.events.find((e) => e.type === 'start');
      assert.ok(start && start.type === 'start');
      const warnings = r.events.filter((e): e is WarningEvent => e.type === 'warning').map((w) => w.message);
      assert.notEqual(start.executionProvider, 'webgpu');
      assert.ok(
        warnings.some((w) => /WebGPU not used: cannot choose GPU 1/.test(w)),
        warnings.join('\n'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a hub AI worker for GPU 1 opens on its own (here: no such GPU, so the CPU) and ai/status says why', async () => {
    try {
      const { hub } = await startHub({
        ai_enabled: true,
        ai_model: FAST_MODEL,
        ai_devices: 'cpu,1',
        ai_temporal: 'off',
      });
      const s = hub.aiStatus() as AiStatus;
      assert.deepEqual(
        s.devices.map((d) => d.id),
        ['cpu', '1'],
      );
      assert.notEqual(s.devices[1].executionProvider, 'webgpu');
      assert.match(s.lastError ?? '', /^1: (.*; )?WebGPU not used: cannot choose GPU 1: WebGPU/);
    } finally {
      await closeHubs();
    }
  });
});
