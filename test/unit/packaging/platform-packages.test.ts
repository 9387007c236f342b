import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isNative, nativeProblems, packageFile, TARGETS, type Target } from '../../../tools/package/targets.mjs';
import { freshDir } from '../engine/helpers';

const ROOT = join(__dirname, '..', '..', '..');

/** The file names inside a .vsix (a zip), listed by unzip. */
function entries(vsix: string): string[] {
  const r = spawnSync('unzip', ['-Z1', vsix], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

describe('packaging: one .vsix per platform, each with only its own native files (real vsce)', function () {
  this.timeout(600_000);
  let dir: string;
  const files = new Map<Target, string[]>();
  before(() => {
    dir = freshDir('huaju4k-packages-');
    const r = spawnSync(process.execPath, [join(ROOT, 'tools', 'package', 'build.mjs'), '--out', dir], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const t of Object.keys(TARGETS) as Target[]) files.set(t, entries(join(dir, packageFile(t))));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const target of Object.keys(TARGETS) as Target[]) {
    it(`${target}: native files of ${target} only, and the models and engine`, () => {
      const list = files.get(target) ?? [];
      const native = list.filter(isNative);
      console.log(`      ${target} ${(statSync(join(dir, packageFile(target))).size / 1e6).toFixed(1)} MB:`);
      for (const f of native) console.log(`        ${f.replace('extension/node_modules/', '')}`);
      assert.deepEqual(nativeProblems(target, list), []);
      assert.ok(list.includes('extension/package.json'));
      assert.ok(list.some((f) => f.endsWith('models/realesr-general-x4v3.onnx')));
    });
  }

  it('win32-x64 has DirectML.dll and no .so; linux-x64 has the onnxruntime binding and no .dll', () => {
    const win = files.get('win32-x64') ?? [];
    assert.ok(win.some((f) => f.endsWith('win32/x64/DirectML.dll')));
    assert.ok(!win.some((f) => /\.so(\.\d+)*$|\.dylib$/.test(f)));
    const linux = files.get('linux-x64') ?? [];
    assert.ok(linux.some((f) => f.endsWith('linux/x64/onnxruntime_binding.node')));
    assert.ok(!linux.some((f) => /\.dll$|\.dylib$/.test(f)));
    const mac = files.get('darwin-arm64') ?? [];
    assert.ok(mac.some((f) => f.endsWith('darwin/arm64/libonnxruntime.1.dylib')));
  });

  it('the check itself finds a foreign library, a missing DirectML.dll and a missing zeromq addon', () => {
    const problems = nativeProblems('win32-x64', [
      'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
      'extension/node_modules/onnxruntime-node/bin/napi-v6/win32/x64/onnxruntime.dll',
    ]);
    assert.deepEqual(problems, [
      'extension/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1 is not in a win32/x64 folder',
      'no zeromq addon',
      'no DirectML.dll',
    ]);
  });
});
