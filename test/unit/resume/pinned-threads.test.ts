import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { readManifest } from '../../../src/engine/checkpoint/manifest';
import type { StartEvent } from '../../../src/protocol/engine-events';
import { basicClip, collect, FAST_MODEL, freshDir, ROOT, runCli, startCli } from '../engine/helpers';
import { workFolder } from './helpers';

/** The engine's default libx264 threads (pixel-params.ts), asked of a child run under `prefix`. */
function defaultThreadsWith(prefix: string[]): number {
  const code = "console.log(require('./src/engine/checkpoint/pixel-params').defaultEncoderThreads())";
  const [command, ...args] = [...prefix, process.execPath, '--import', 'tsx', '-e', code];
  return Number(execFileSync(command, args, { cwd: ROOT }).toString().trim());
}

describe('resume on a machine with another core count keeps the encoder threads the job started with', function () {
  this.timeout(300_000);
  const oneCore = ['taskset', '-c', '0'];
  let dir: string;
  before(function () {
    // taskset limits the engine to one core, as a smaller machine would (availableParallelism follows the affinity).
    if (availableParallelism() < 2) this.skip();
    dir = freshDir('huaju4k-pinned-threads-');
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('started on one core, cancelled after a segment, resumed on all cores: same threads, the checkpoint accepts it', async () => {
    const [small, here] = [defaultThreadsWith(oneCore), defaultThreadsWith([])];
    assert.notEqual(small, here, 'the two machines must pick different thread counts for this test to mean anything');
    const out = join(dir, 'out.mp4');
    const input = basicClip(400);
    const job = ['--model', FAST_MODEL, '--tile', '0', '--temporal', 'off', '--json'];
    const run = ['--max-frames', '12', '--segment-frames', '2', '--buffer-mb', '16', ...job];
    const first = startCli(['enhance', input, '-o', out, ...run], {}, oneCore);
    const cancelled = await collect(first, (e) => {
      if (e.type === 'segment') first.kill('SIGTERM');
    });
    assert.equal(cancelled.code, 5, cancelled.stderr);
    assert.equal(
      readManifest(workFolder(out))?.params.threads,
      small,
      'the checkpoint pins the first machine’s threads',
    );
    // The threads are in the checkpoint's pixel parameters: a resume with this machine's default would be refused.
    const r = await runCli(['resume', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const start = r.events.find((e): e is StartEvent => e.type === 'start');
    assert.ok((start?.resumeFromFrame ?? 0) >= 2, 'resumed after the first segment');
  });
});
