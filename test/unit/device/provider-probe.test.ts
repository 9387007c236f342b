import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { probeModel, probeProvider, runProviderProbe } from '../../../src/engine/device/provider-probe';
import { explainProviderError, type ProviderName } from '../../../src/engine/device/providers';

describe('gpu/provider-probe: providers tried in a child process (real binding)', function () {
  this.timeout(120_000);

  it('the probe model runs on the CPU: Relu of -1 is 0', async () => {
    const session = await ort.InferenceSession.create(probeModel(), { executionProviders: ['cpu'] });
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(192).fill(-1), [1, 3, 8, 8]) });
    assert.deepEqual([...(out.y.data as Float32Array)].slice(0, 3), [0, 0, 0]);
    await session.release();
    assert.deepEqual(await runProviderProbe('cpu'), { ok: true });
  });

  it("a provider the build lacks: the child answers onnxruntime's own error, explained, and the engine goes on", async () => {
    const missing = (['dml', 'coreml'] as ProviderName[]).find(
      (p) => !ort.listSupportedBackends().some((b) => b.name === p),
    );
    assert.ok(missing, 'this build lacks DirectML or CoreML');
    const answer = await probeProvider(missing);
    assert.equal(answer.ok, false);
    assert.ok(!answer.ok && /backend not found/.test(answer.message), JSON.stringify(answer));
    const why = explainProviderError(missing, answer.ok ? '' : answer.message);
    assert.match(why.reason, /this onnxruntime-node build has no (DirectML|CoreML) provider on /);
    assert.match(why.hint, /only/);
  });

  it('cpu passes in the child too (the engine entry, run again, answers one JSON line)', async () => {
    assert.deepEqual(await probeProvider('cpu'), { ok: true });
  });
});
