import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cacheRoot } from '../../../tools/models/cache';

// A real photograph-like test image: a frame of cockatoo.mp4 from Debian's python3-imageio (BSD), which nobody
// generated synthetically. Falls back to downloading the .deb with apt-get, then to the repo's media/sample.mp4
// (a cut of the same clip).

const IMAGEIO_CLIP = 'usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4';

function findCockatoo(): string | undefined {
  const installed = `/${IMAGEIO_CLIP}`;
  if (existsSync(installed)) return installed;
  const dir = join(cacheRoot(), 'imageio');
  const cached = join(dir, IMAGEIO_CLIP);
  if (existsSync(cached)) return cached;
  try {
    mkdirSync(dir, { recursive: true });
    execFileSync('apt-get', ['download', 'python3-imageio'], { cwd: dir, stdio: 'ignore' });
    const deb = readdirSync(dir).find((f) => f.startsWith('python3-imageio') && f.endsWith('.deb'));
    if (deb) execFileSync('dpkg', ['-x', join(dir, deb), dir], { stdio: 'ignore' });
  } catch {
    // no apt here: use the fallback below
  }
  return existsSync(cached) ? cached : undefined;
}

/** Writes a `width`×`height` PNG cut from the middle of a real clip; returns the clip it came from. */
export function writeNaturalPng(out: string, width: number, height: number): string {
  const cockatoo = findCockatoo();
  const clip = cockatoo ?? resolve(__dirname, '../../../media/sample.mp4');
  // The cockatoo's head and feathers: fine detail, soft background, some saturated colour.
  const crop = cockatoo ? 'crop=640:480:400:120,' : '';
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-ss',
    '2',
    '-i',
    clip,
    '-frames:v',
    '1',
    '-vf',
    `${crop}scale=${width}:${height}:flags=area`,
    out,
  ]);
  return clip;
}
