import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CalibrationResult } from './calibration';

/** The user's cache folder for huaju4k: $HUAJU4K_CACHE, else the platform's cache dir + /huaju4k. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.HUAJU4K_CACHE) return env.HUAJU4K_CACHE;
  if (platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'huaju4k', 'cache');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'huaju4k');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huaju4k');
}

export const calibrationFile = (dir = cacheDir()): string => join(dir, 'calibration.json');

export interface CalibrationKey {
  modelSha256: string;
  provider: string;
  /** The GPU's name (or the CPU model for the CPU provider). */
  device: string;
  ortVersion: string;
  /** fp16 runs use about half the memory per pixel; fp32 keys keep the shape they had before fp16 existed. */
  precision?: 'fp32' | 'fp16' | 'int8';
}

export const keyString = (k: CalibrationKey): string =>
  [
    k.modelSha256.slice(0, 16),
    k.provider,
    k.device,
    `ort${k.ortVersion}`,
    ...(k.precision && k.precision !== 'fp32' ? [k.precision] : []),
  ].join('|');

export interface CachedCalibration extends CalibrationResult {
  measuredAt: string;
}

interface CacheFile {
  version: 1;
  entries: Record<string, CachedCalibration>;
}

function readCache(file: string): CacheFile {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<CacheFile>;
    if (parsed.version === 1 && parsed.entries && typeof parsed.entries === 'object') {
      return { version: 1, entries: parsed.entries };
    }
  } catch {
    // Missing or damaged: start over (a calibration is cheap to redo).
  }
  return { version: 1, entries: {} };
}

const isValid = (c: CachedCalibration | undefined): c is CachedCalibration =>
  !!c && Number.isFinite(c.bytesPerPixel) && c.bytesPerPixel > 0 && Number.isFinite(c.fixedBytes) && c.fixedBytes >= 0;

export function readCalibration(key: CalibrationKey, file = calibrationFile()): CachedCalibration | undefined {
  const c = readCache(file).entries[keyString(key)];
  return isValid(c) ? c : undefined;
}

/** Adds or replaces one entry; written to a temp file and renamed, so a concurrent reader never sees half a file. */
export function writeCalibration(key: CalibrationKey, result: CalibrationResult, file = calibrationFile()): void {
  const cache = readCache(file);
  cache.entries[keyString(key)] = { ...result, measuredAt: new Date().toISOString() };
  mkdirSync(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(cache, null, 2)}\n`);
  renameSync(tmp, file);
}

/** The cached calibration for `key`, or a fresh one (stored) from `measure`; `cached` says which. */
export async function cachedCalibration(
  key: CalibrationKey,
  measure: () => Promise<CalibrationResult | undefined>,
  file = calibrationFile(),
): Promise<{ result: CalibrationResult; cached: boolean } | undefined> {
  const hit = readCalibration(key, file);
  if (hit) return { result: hit, cached: true };
  const result = await measure();
  if (!result) return undefined;
  try {
    writeCalibration(key, result, file);
  } catch {
    // A read-only cache folder costs a calibration per run, nothing else.
  }
  return { result, cached: false };
}
