import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const CHILD = join(__dirname, 'close-mid-run-child.ts');

/** Runs the child with tsx as the other engine children are run in tests. */
function closeMidRun(side: number, when: 'soon' | 'later') {
  return spawnSync(process.execPath, ['--import', 'tsx', CHILD, String(side), when], {
    encoding: 'utf8',
    timeout: 240_000,
  });
}

describe('inference worker: closing it while onnxruntime runs a frame (a cancel mid-frame)', function () {
  this.timeout(600_000);
  for (const when of ['soon', 'later'] as const) {
    it(`ends cleanly, never by a native abort (close ${when} after the frame is sent)`, () => {
      const r = closeMidRun(when === 'soon' ? 160 : 256, when);
      assert.doesNotMatch(r.stderr, /terminate called/, r.stderr);
      assert.equal(r.signal, null, `exit by ${r.signal}: ${r.stderr.slice(-400)}`);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'closed');
    });
  }
});
