import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { clip, freshDir, ROOT } from '../engine/helpers';

const ENGINE = join(ROOT, 'src/engine/cli.ts');

/** Frames large enough that one takes the model longer than the engine's cancel grace on a CPU (a cancel mid-frame). */
const source = () =>
  clip('cancel-192x108.mp4', [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=192x108:rate=25:duration=1.2',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
  ]);

interface CancelRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Events the engine had written when it was cancelled. */
  seen: number;
}

/**
 * One enhance job with temporal filtering and motion (optical flow) on, cancelled with SIGTERM as the extension
 * cancels it: after `afterEvents` JSON events (the start, then one progress per frame), or `afterMs` after spawn
 * (while the model opens).
 */
function cancelAt(point: { afterEvents?: number; afterMs?: number }): Promise<CancelRun> {
  const dir = freshDir('huaju4k-cancel-');
  const args = ['enhance', source(), '-o', join(dir, 'out.4k.mp4'), '--model', 'realesr-animevideov3-x4'];
  const p = spawn(
    process.execPath,
    [ENGINE, ...args, '--scale', '4', '--temporal', 'high', '--motion', 'flow', '--segment-frames', '4', '--json'],
    {
      env: {
        ...process.env,
        NODE_OPTIONS: `--import=${pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href}`,
        HUAJU4K_PROGRESS_EVERY_MS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  let seen = 0;
  let sent = false;
  const cancel = () => {
    if (!sent) p.kill('SIGTERM');
    sent = true;
  };
  p.stderr.on('data', (b) => (stderr += b));
  p.stdout.on('data', (b: Buffer) => {
    seen += String(b)
      .split('\n')
      .filter((l) => l.startsWith('{')).length;
    if (point.afterEvents !== undefined && seen >= point.afterEvents) cancel();
  });
  if (point.afterMs !== undefined) setTimeout(cancel, point.afterMs);
  return new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal, stderr, seen })));
}

describe('cancel at many points of a job with temporal and motion on: never a native abort', function () {
  this.timeout(900_000);
  for (const afterEvents of [1, 2, 3, 4]) {
    it(`cancelled after ${afterEvents} event(s): exit 5 (cancelled), not a signal`, async () => {
      const r = await cancelAt({ afterEvents });
      assert.doesNotMatch(r.stderr, /terminate called/, r.stderr);
      assert.equal(r.signal, null, `exit by ${r.signal}: ${r.stderr.slice(-400)}`);
      assert.ok(r.code === 5 || r.code === 0, `exit ${r.code}: ${r.stderr.slice(-400)}`);
    });
  }
  for (const afterMs of [1000, 1500, 2000, 3000]) {
    it(`cancelled ${afterMs} ms after the start (the model opening): no native abort`, async () => {
      const r = await cancelAt({ afterMs });
      assert.doesNotMatch(r.stderr, /terminate called/, r.stderr);
      assert.notEqual(r.signal, 'SIGABRT', r.stderr.slice(-400));
      // SIGTERM before node ran the engine's handler ends the process by the signal itself; after, it is a cancel.
      if (r.seen > 0) assert.equal(r.signal, null, r.stderr.slice(-400));
    });
  }
});
