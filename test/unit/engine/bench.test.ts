import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { cpuInt8Exact } from '../../../src/engine/device/cpu-int8';
import { basicClip, FAST_MODEL, runCli } from './helpers';

interface BenchOutput {
  provider: string;
  encoder: string;
  results: { mode: string; frames: number; fps: number; peakIntermediateBytes: number }[];
}

const benchDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith('huaju4k-bench-'));

describe('engine: huaju4k bench (CLI, real ffmpeg + ORT)', function () {
  this.timeout(120_000);

  it('measures model-only, streaming and the PNG-files baseline on the same frames, and cleans up', async () => {
    const before = new Set(benchDirs());
    const r = await runCli(['bench', basicClip(12), '--frames', '4', '--model', FAST_MODEL, '--ep', 'cpu', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as BenchOutput;
    // auto runs the verified int8 variant of the anime model on a CPU that computes int8 exactly, fp32 elsewhere.
    assert.equal(out.provider, cpuInt8Exact() ? 'cpu int8' : 'cpu fp32');
    assert.equal(out.encoder, 'libx264');
    assert.deepEqual(
      out.results.map((x) => x.mode),
      ['model', 'stream', 'traditional'],
    );
    for (const x of out.results) {
      assert.equal(x.frames, 4, x.mode);
      assert.ok(x.fps > 0, x.mode);
    }
    const [model, stream, trad] = out.results;
    assert.equal(model.peakIntermediateBytes, 0);
    assert.equal(stream.peakIntermediateBytes, 0, 'streaming writes no frame to disk');
    assert.ok(trad.peakIntermediateBytes > 4 * 64 * 36, 'the baseline really wrote PNG files');
    assert.deepEqual(
      benchDirs().filter((n) => !before.has(n)),
      [],
      'no work folder left behind',
    );
  });
});
