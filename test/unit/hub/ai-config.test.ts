/** The AI core's options: flags → config, what is refused and how, and a hub that cannot load its model. */
import assert from 'node:assert/strict';
import { parseHubArgs } from '../../../src/hub/cli';
import { resolveHubConfig } from '../../../src/hub/config';
import { runCli } from '../engine/helpers';

describe('hub AI options', function () {
  this.timeout(60_000);

  it('maps --ai, --model, --devices, --scale, --target, --temporal and --bind-relay onto the config', () => {
    const args = ['--ai', '--model', 'null', '--devices', 'cpu,cpu', '--scale', '2', '--temporal', 'off'];
    const parsed = parseHubArgs([...args, '--bind-relay', 'tcp://127.0.0.1:*']);
    const c = resolveHubConfig({ flags: parsed.flags });
    assert.equal(c.aiEnabled, true);
    assert.deepEqual(
      { ...c.ai },
      {
        model: 'null',
        devices: [
          { id: 'cpu', kind: 'cpu' },
          { id: 'cpu', kind: 'cpu' },
        ],
        scale: 2,
        target: null,
        temporal: 'off',
        jpegQuality: 1,
        tile: 0,
      },
    );
    assert.equal(c.relayBind, 'tcp://127.0.0.1:*');
    const t = resolveHubConfig({ flags: parseHubArgs(['--target', '1920x1080', '--devices', '0']).flags });
    assert.deepEqual([t.ai.target, t.ai.devices], [{ width: 1920, height: 1080 }, [{ id: '0', kind: 'gpu' }]]);
  });

  it('refuses what it cannot do, saying what to do instead', () => {
    const bad = (flags: Record<string, unknown>, re: RegExp) => assert.throws(() => resolveHubConfig({ flags }), re);
    bad({ ai_devices: '0,0' }, /GPU 0 is listed twice/);
    bad({ ai_devices: 'tpu' }, /"tpu" is neither cpu nor a GPU index/);
    bad({ ai_scale: '3' }, /ai_scale must be 2 or 4/);
    bad({ ai_target: '1921x1080' }, /ai_target: --target must be WIDTHxHEIGHT with even numbers/);
    bad({ ai_temporal: 'max' }, /ai_temporal must be off, low, medium or high/);
  });

  it('a hub whose model cannot be loaded exits 2 with the loader’s reason', async () => {
    const res = await runCli(['hub', '--port', '0', '--ai', '--model', '/nonexistent/model.onnx']);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /huaju4k hub: .*nonexistent\/model\.onnx/);
  });
});
