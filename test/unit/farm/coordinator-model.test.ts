import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { openModel } from '../../../src/engine/device/open-model';
import { EngineError } from '../../../src/engine/errors';
import { type CoordinatorModelOptions, describeCoordinatorModel } from '../../../src/engine/farm/coordinator-model';
import { WorkerUpscaler } from '../../../src/engine/inference/infer-worker';
import { ExitCode } from '../../../src/protocol/engine-events';
import { basicClip, FAST_MODEL, freshDir, runCli } from '../engine/helpers';

/** What a checkpoint records of the model (pixel-params.ts) and what the `done` report says of it. */
const recorded = (m: {
  id: string;
  scale: number;
  sha256: string;
  executionProvider: string;
  precision: string;
  int8Sha256?: string;
}) => ({
  id: m.id,
  scale: m.scale,
  sha256: m.sha256,
  executionProvider: m.executionProvider,
  precision: m.precision,
  int8Sha256: m.int8Sha256,
});

describe('farm: the coordinator of a split job describes its model without opening it (coordinator-model.ts)', function () {
  this.timeout(300000);
  const frame = { width: 160, height: 90 };
  const base = (calibrationFile: string): CoordinatorModelOptions => ({
    ...{ modelRef: FAST_MODEL, ep: 'auto', precision: 'auto', tile: 0, frame, pad: 12, reservedBytes: 2 ** 28 },
    calibrationFile,
  });

  it('records what opening the model records: the same id, scale, sha256, provider, precision and int8 variant', async () => {
    const file = join(freshDir('huaju4k-coord-model-'), 'calibration.json');
    for (const precision of ['auto', 'fp32', 'int8'] as const) {
      const o = { ...base(file), precision };
      const described = await describeCoordinatorModel(o);
      assert.ok(described, `${precision}: described without a session`);
      const opened = await openModel({ ...o, vramBudgetBytes: 2 ** 30, intraOpNumThreads: 1 });
      await opened.model.session.release();
      assert.deepEqual(recorded(described.model), recorded(opened.model), precision);
      assert.equal(described.tile, opened.tile);
      assert.equal(described.model.path, opened.model.path);
    }
  });

  it("an `auto` tile comes from this model's cached calibration only: none cached → undefined (the model is opened)", async () => {
    const file = join(freshDir('huaju4k-coord-tile-'), 'calibration.json');
    const o = { ...base(file), tile: 'auto' as const };
    assert.equal(await describeCoordinatorModel(o), undefined, 'never calibrated: only a session can measure it');
    const opened = await openModel({ ...o, vramBudgetBytes: 2 ** 30, intraOpNumThreads: 1 });
    await opened.model.session.release();
    assert.equal(opened.plan?.source, 'calibrated');
    const described = await describeCoordinatorModel(o);
    assert.ok(described, 'calibrated now: described from the cache');
    assert.equal(described.tile, opened.tile);
  });

  it('refuses a missing or unknown model with the error opening it gives', async () => {
    for (const modelRef of ['no-such-model', join(freshDir('huaju4k-coord-missing-'), 'gone.onnx')]) {
      const expected = await WorkerUpscaler.start({ modelRef, tile: 0, pad: 12 }).then(
        () => assert.fail('opened'),
        (err: unknown) => err as Error & { reason: string; hint: string },
      );
      await assert.rejects(describeCoordinatorModel({ ...base('unused'), modelRef }), (err: unknown) => {
        assert.ok(err instanceof EngineError);
        assert.equal(err.code, ExitCode.environment);
        assert.equal(err.reason, expected.reason);
        assert.equal(err.message, expected.message);
        assert.equal(err.hint, expected.hint);
        return true;
      });
    }
  });

  it('enhance --workers 2 with a missing model: refused before any engine starts, as a plain run refuses it', async () => {
    const dir = freshDir('huaju4k-coord-cli-');
    const input = join(dir, 'in.mp4');
    copyFileSync(basicClip(6), input);
    const run = (extra: string[]) =>
      runCli(['enhance', input, '-o', join(dir, 'out.mp4'), '--model', 'no-such-model', '--json', ...extra]);
    const plain = await run([]);
    const split = await run(['--workers', '2']);
    const error = (r: typeof plain) => r.events.find((e) => e.type === 'error');
    assert.equal(plain.code, ExitCode.environment, plain.stderr);
    assert.equal(split.code, plain.code, split.stderr);
    const { ts: _a, ...expected } = error(plain) ?? assert.fail('no error event');
    const { ts: _b, ...got } = error(split) ?? assert.fail('no error event');
    assert.deepEqual(got, expected);
    assert.equal(split.events.filter((e) => e.type === 'range').length, 0, 'no range was started');
  });

  it('the null model: the meta its worker reports', async () => {
    const described = await describeCoordinatorModel({ ...base('unused'), modelRef: 'null', tile: 'auto' });
    const worker = await WorkerUpscaler.start({ modelRef: 'null', tile: 'auto', pad: 12 });
    await worker.close();
    assert.ok(described);
    assert.deepEqual(recorded(described.model), recorded(worker.model));
    assert.equal(described.tile, worker.tile);
    await assert.rejects(described.upscaler.upscale(new Uint8Array(12), 2, 2), /runs no frame/);
  });
});
