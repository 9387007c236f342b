import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { InputIdentity, PixelParams } from './manifest';

const SAMPLE_BYTES = 2 ** 20;

/** Path, size, mtime and a sampled content hash (start, middle, end; the whole file when small). */
export function inputIdentity(path: string): InputIdentity {
  const st = statSync(path);
  const hash = createHash('sha256').update(String(st.size));
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(SAMPLE_BYTES);
    const offsets =
      st.size <= 3 * SAMPLE_BYTES ? [0] : [0, Math.floor(st.size / 2 - SAMPLE_BYTES / 2), st.size - SAMPLE_BYTES];
    const len = st.size <= 3 * SAMPLE_BYTES ? st.size : SAMPLE_BYTES;
    for (const off of offsets) {
      let got = 0;
      const chunk = Buffer.allocUnsafe(len);
      while (got < len) {
        const n = readSync(fd, buf, 0, Math.min(SAMPLE_BYTES, len - got), off + got);
        if (n <= 0) break;
        buf.copy(chunk, got, 0, n);
        got += n;
      }
      hash.update(chunk.subarray(0, got));
    }
  } finally {
    closeSync(fd);
  }
  return { path: resolve(path), sizeBytes: st.size, mtimeMs: Math.round(st.mtimeMs), fingerprint: hash.digest('hex') };
}

/** Keys sorted, so the same settings always hash the same. */
export function paramsHash(params: PixelParams): string {
  const sorted = Object.fromEntries(Object.entries(params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** Human list of what differs between two parameter sets ("crf: 18 → 20"). */
export function diffParams(before: PixelParams, now: PixelParams): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(now)])].sort();
  return keys
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]))
    .map((k) => `${k}: ${JSON.stringify(before[k] ?? null)} → ${JSON.stringify(now[k] ?? null)}`);
}

/** Why `now` is not the input the checkpoint was made from, or undefined when it is the same file. */
export function inputMismatch(before: InputIdentity, now: InputIdentity): string | undefined {
  if (before.path !== now.path) return `input path was ${before.path}, now ${now.path}`;
  if (before.sizeBytes !== now.sizeBytes) return `input size was ${before.sizeBytes} bytes, now ${now.sizeBytes}`;
  if (before.fingerprint !== now.fingerprint) return 'input content changed';
  if (before.mtimeMs !== now.mtimeMs) return 'input modification time changed';
  return undefined;
}
