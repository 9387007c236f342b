import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runtimeMissing } from '../../../src/engine/model/ort';
import type { ErrorEvent } from '../../../src/protocol/engine-events';
import { basicClip, collect, freshDir, startCli } from '../engine/helpers';

// The darwin-x64 package ships no onnxruntime binding (onnxruntime-node publishes none). The engine must still start
// there: help, the hub, --model null; and a run that needs a model must say why, not crash at startup.
const NO_ORT = { NODE_OPTIONS: `--require ${join(__dirname, 'fixtures/no-onnxruntime.cjs')}` };

describe('an engine on a platform without an ONNX Runtime build', function () {
  this.timeout(120_000);

  it('starts: --version and hub --help answer', async () => {
    const version = await collect(startCli(['--version'], NO_ORT));
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^huaju4k /);
    const hub = await collect(startCli(['hub', '--help'], NO_ORT));
    assert.equal(hub.code, 0, hub.stderr);
    assert.match(hub.stdout, /usage: huaju4k hub/);
  });

  it('a model run stops with runtime-missing and what to do; --model null still enhances', async () => {
    const dir = freshDir('huaju4k-no-ort-');
    const out = join(dir, 'o.mp4');
    const r = await collect(startCli(['enhance', basicClip(12), '-o', out, '--json'], NO_ORT));
    assert.equal(r.code, 3, r.stderr);
    const err = r.events.find((e): e is ErrorEvent => e.type === 'error');
    assert.equal(err?.reason, 'runtime-missing', r.stdout);
    assert.match(err?.hint ?? '', /huaju4k-linux-x64\.vsix/);
    assert.ok(!existsSync(out));
    const nul = join(dir, 'n.mp4');
    const n = await collect(startCli(['enhance', basicClip(12), '-o', nul, '--model', 'null', '--scale', '4'], NO_ORT));
    assert.equal(n.code, 0, n.stderr);
    assert.ok(existsSync(nul));
  });

  it('on an Intel Mac the message names it and says where upscaling works', () => {
    const err = runtimeMissing(
      new Error("Cannot find module '../bin/napi-v6/darwin/x64/onnxruntime_binding.node'"),
      'darwin-x64',
    );
    assert.equal(err.reason, 'runtime-missing');
    assert.match(err.message, /no build for Intel Macs/);
    assert.match(err.hint ?? '', /Apple silicon.*Remote/);
  });
});
