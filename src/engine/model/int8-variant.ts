import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelEntry } from './catalog';
import { type ActivationRanges, Int8ConversionError, type Int8Options, toInt8Model } from './int8';
import { withMaxPrelu } from './prelu-max';

/** models/<this>: the activation ranges `npm run models -- --calibrate` measured on real frames, per model id. */
export const CALIBRATION_FILE = 'int8-calibration.json';

export interface CalibrationFile {
  version: 1;
  /** How the ranges were measured (percentile, frames), for people reading the file. */
  method: string;
  frames: string[];
  models: Record<string, ActivationRanges>;
}

/**
 * The float graph the int8 variant quantizes and calibration measures: the model with its PRelus in the exact max
 * form (model/prelu-max.ts), so the float work between DequantizeLinear and QuantizeLinear is branch-free.
 */
export const int8Source = (fp32: Uint8Array): Uint8Array => withMaxPrelu(fp32);

/** The form the int8 variants take: u8s8 QDQ with the exact skip rewrite (the fastest measured; docs/dev/models.md). */
export const INT8_FORM: Int8Options = { format: 'qdq', weightType: 'int8', rewriteSkip: true };

/** A catalogued model has no verified int8 variant, or it does not match (it then runs in fp32). */
export class Int8UnavailableError extends Error {}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export function readCalibration(dir: string): CalibrationFile | undefined {
  const file = join(dir, CALIBRATION_FILE);
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<CalibrationFile>;
  if (parsed.version !== 1 || typeof parsed.models !== 'object' || parsed.models === null) return undefined;
  return parsed as CalibrationFile;
}

/** The int8 variant of `fp32` from the committed ranges (deterministic bytes); undefined when it has no ranges. */
export function buildInt8Variant(id: string, fp32: Uint8Array, calibration: CalibrationFile | undefined) {
  const ranges = calibration?.models[id];
  return ranges ? toInt8Model(int8Source(fp32), ranges, INT8_FORM) : undefined;
}

/**
 * The verified int8 variant of a catalogued model: built in memory from the fp32 file and models/int8-calibration.json
 * (like the fp16 variant), and only used when its sha256 is the one models.json records — what `npm run models`
 * produced and the quality tests measured.
 */
export function verifiedInt8Variant(entry: ModelEntry | undefined, fp32: Uint8Array, dir: string): Uint8Array {
  if (!entry?.int8) throw new Int8UnavailableError(`${entry?.id ?? 'this model'} has no verified int8 variant`);
  let bytes: Uint8Array | undefined;
  try {
    bytes = buildInt8Variant(entry.id, fp32, readCalibration(dir));
  } catch (err) {
    if (!(err instanceof Int8ConversionError)) throw err;
    throw new Int8UnavailableError(`${entry.id} has no int8 form: ${err.message}`);
  }
  if (!bytes) throw new Int8UnavailableError(`${CALIBRATION_FILE} has no ranges for ${entry.id}; run npm run models`);
  const sha = sha256Hex(bytes);
  if (sha !== entry.int8.sha256) {
    throw new Int8UnavailableError(
      `${entry.id}'s int8 variant has sha256 ${sha}, but models.json expects ${entry.int8.sha256}; run npm run models`,
    );
  }
  return bytes;
}
