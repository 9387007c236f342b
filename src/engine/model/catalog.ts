import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ModelError } from './model-error';

export interface ModelEntry {
  id: string;
  file: string;
  scale: number;
  sha256: string;
  description: string;
  license: string;
  source: { package: string; file: string };
  /**
   * The verified int8 variant (model/int8-variant.ts): the sha256 of what `npm run models` builds from this file and
   * models/int8-calibration.json, and whether `--precision auto` picks it on the CPU (only where the bench measured
   * it at least 1.8× faster than fp32 at the quality the tests demand).
   */
  int8?: { sha256: string; auto: boolean };
}

export const DEFAULT_MODEL_ID = 'realesr-general-x4v3';
export const MODELS_INDEX = 'models.json';

/** Where this module lives: src/engine/model under tsx, dist/ in the esbuild bundle. */
function hereDir(): string {
  return typeof __dirname === 'string' ? __dirname : process.cwd();
}

/**
 * `<package root>/models`, found by walking up from this file until a `models/models.json` appears; works from
 * src (tsx), from the dist bundle and from an installed extension. HUAJU4K_MODELS_DIR overrides it.
 */
export function modelsDir(): string {
  const override = process.env.HUAJU4K_MODELS_DIR;
  if (override) return resolve(override);
  let dir = hereDir();
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'models');
    if (existsSync(join(candidate, MODELS_INDEX))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new ModelError(
    'model-not-found',
    `cannot find the models folder (models/${MODELS_INDEX}) above ${hereDir()}`,
    'reinstall huaju4k, run `npm run models` in a source checkout, or set HUAJU4K_MODELS_DIR',
  );
}

function isInt8(x: unknown): boolean {
  const i = x as Record<string, unknown> | null;
  return typeof i === 'object' && i !== null && typeof i.sha256 === 'string' && typeof i.auto === 'boolean';
}

function isEntry(x: unknown): x is ModelEntry {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  const src = e.source as Record<string, unknown> | undefined;
  return (
    typeof e.id === 'string' &&
    typeof e.file === 'string' &&
    typeof e.scale === 'number' &&
    typeof e.sha256 === 'string' &&
    typeof e.description === 'string' &&
    typeof e.license === 'string' &&
    typeof src === 'object' &&
    src !== null &&
    typeof src.package === 'string' &&
    typeof src.file === 'string' &&
    (e.int8 === undefined || isInt8(e.int8))
  );
}

/** The committed models, from models/models.json. */
export function listModels(): ModelEntry[] {
  const file = join(modelsDir(), MODELS_INDEX);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ModelError(
      'model-corrupt',
      `${file} is unreadable: ${err instanceof Error ? err.message : String(err)}`,
      'restore it from git or run `npm run models`',
    );
  }
  const models = (parsed as { models?: unknown }).models;
  if (!Array.isArray(models) || !models.every(isEntry)) {
    throw new ModelError(
      'model-corrupt',
      `${file} does not list models in the expected shape`,
      'restore it from git or run `npm run models`',
    );
  }
  return models;
}
