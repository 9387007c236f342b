// `npm run package`: one .vsix per VS Code target (vsce package --target), each with only its own native files.
// The shared .vscodeignore lists what every package holds; a temporary copy per target adds its native folders.
// Usage: node tools/package/build.mjs [--out DIR] [target ...]   (default: all six, into the repository root)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { nativeIncludes, packageFile, TARGETS } from './targets.mjs';

const root = resolve(import.meta.dirname, '..', '..');

function parse(argv) {
  const outAt = argv.indexOf('--out');
  const out = outAt >= 0 ? resolve(argv[outAt + 1]) : root;
  const targets = argv.filter((a, i) => a !== '--out' && i !== outAt + 1);
  for (const t of targets) if (!TARGETS[t]) throw new Error(`unknown target ${t}; one of ${Object.keys(TARGETS)}`);
  return { out, targets: targets.length ? targets : Object.keys(TARGETS) };
}

function packageTarget(target, out, tmp) {
  const ignore = join(tmp, `${target}.vscodeignore`);
  const base = readFileSync(join(root, '.vscodeignore'), 'utf8');
  writeFileSync(ignore, `${base}\n# ${target}\n${nativeIncludes(target).join('\n')}\n`);
  const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  const file = join(out, packageFile(target));
  const args = ['package', '--target', target, '--ignoreFile', ignore, '--no-rewrite-relative-links', '--out', file];
  const r = spawnSync(process.execPath, [vsce, ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`vsce package --target ${target} failed (${r.status ?? r.signal})`);
  return file;
}

const { out, targets } = parse(process.argv.slice(2));
mkdirSync(out, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'huaju4k-package-'));
try {
  for (const t of targets) console.log(`${t}: ${packageTarget(t, out, tmp)}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
