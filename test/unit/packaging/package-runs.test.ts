import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cpuInt8Exact } from '../../../src/engine/device/cpu-int8';
import { packageFile, TARGETS, type Target } from '../../../tools/package/targets.mjs';
import { basicClip, freshDir } from '../engine/helpers';

const ROOT = join(__dirname, '..', '..', '..');
const HERE = `${process.platform}-${process.arch}` as Target;

interface ModelsIndex {
  models: { id: string; file: string; int8?: { auto?: boolean } }[];
}

/**
 * The package of this machine's platform, unpacked as VS Code installs it, and the engine run from there: every
 * file the engine opens at run time (models, the int8 calibration, the native binding) must be inside.
 */
describe('packaging: the installed extension holds what the engine reads (real vsce, real engine)', function () {
  this.timeout(600_000);
  let dir: string;
  let ext: string;
  before(function () {
    if (!TARGETS[HERE]) this.skip();
    dir = freshDir('huaju4k-package-run-');
    const build = spawnSync(process.execPath, [join(ROOT, 'tools', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stdout + build.stderr);
    const pack = spawnSync(process.execPath, [join(ROOT, 'tools', 'package', 'build.mjs'), '--out', dir, HERE], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(pack.status, 0, pack.stdout + pack.stderr);
    const unzip = spawnSync('unzip', ['-q', join(dir, packageFile(HERE)), '-d', join(dir, 'installed')]);
    assert.equal(unzip.status, 0, String(unzip.stderr));
    ext = join(dir, 'installed', 'extension');
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every model models.json names, and the int8 calibration where a model has an int8 variant', () => {
    const index = JSON.parse(readFileSync(join(ext, 'models', 'models.json'), 'utf8')) as ModelsIndex;
    for (const m of index.models) assert.ok(existsSync(join(ext, 'models', m.file)), m.file);
    if (index.models.some((m) => m.int8)) assert.ok(existsSync(join(ext, 'models', 'int8-calibration.json')));
  });

  it('the engine from the package runs the anime model in int8 on a CPU that runs int8 exactly, fp32 on others, as the README says', () => {
    const output = join(dir, 'clip.4k.mp4');
    const args = ['enhance', basicClip(4), '-o', output, '--model', 'realesr-animevideov3-x4', '--scale', '4'];
    const r = spawnSync(process.execPath, [join(ext, 'dist', 'engine.js'), ...args, '--ep', 'cpu', '--json'], {
      cwd: dir,
      encoding: 'utf8',
    });
    const events = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; code?: string; message?: string; report?: { precision: string } });
    const int8Warning = events.find((e) => e.type === 'warning' && e.code === 'int8-unavailable');
    assert.equal(int8Warning, undefined, int8Warning?.message);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(events.find((e) => e.type === 'done')?.report?.precision, cpuInt8Exact() ? 'int8' : 'fp32');
  });
});
