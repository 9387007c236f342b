/**
 * What the AI core runs: the model, one worker per device, the output size (the model's scale, `--scale 2|4`, or a
 * `--target WxH` box) and the temporal strength. Parsed from the hub config's `ai_*` keys (flags, env or file).
 */
import { availableParallelism } from 'node:os';
import type { InferWorkerOptions } from '../../engine/inference/infer-worker';
import { fitInside, parseTargetOption, type Size, scaleBy } from '../../engine/pipeline/target-size';
import { isTemporalStrength, type TemporalStrength } from '../../engine/temporal/strength';

export interface AiDevice {
  /** As given: `cpu` or a GPU index. */
  id: string;
  kind: 'cpu' | 'gpu';
}

export interface AiSettings {
  model: string;
  devices: AiDevice[];
  /** Output factor on the input size; null = the model's own scale. */
  scale: number | null;
  /** Fit the output inside this box (display aspect kept); wins over `scale`. */
  target: Size | null;
  temporal: TemporalStrength;
  /** ffmpeg's -q:v for the processed JPEGs (1 = best, the default: ≥ 45 dB against the model's own output). */
  jpegQuality: number;
  /** A frame that waited longer than this for a worker is dropped. */
  maxFrameAgeMs: number;
  /** Tile side for the model (0 = whole frame; halved on out-of-memory by the engine's OOM handling). */
  tile: number;
  ffmpeg: string;
}

export class AiSettingsError extends Error {}

/**
 * `cpu,cpu` (two CPU workers), `0,1` (one worker per GPU, each opening its own: device/gpu-choice.ts), `gpu` (the
 * default GPU).
 */
export function parseDevices(text: string): AiDevice[] {
  const ids = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0 || ids.length > 16) throw new AiSettingsError('ai_devices must list 1 to 16 devices');
  const devices = ids.map((id): AiDevice => {
    if (id === 'cpu') return { id, kind: 'cpu' };
    if (id === 'gpu' || /^\d{1,3}$/.test(id)) return { id, kind: 'gpu' };
    throw new AiSettingsError(`ai_devices: "${id}" is neither cpu nor a GPU index (e.g. --devices cpu,cpu or 0,1)`);
  });
  const gpus = devices.filter((d) => d.kind === 'gpu').map((d) => (d.id === 'gpu' ? '0' : d.id));
  const twice = gpus.find((g, i) => gpus.indexOf(g) !== i);
  if (twice !== undefined) {
    throw new AiSettingsError(`ai_devices: GPU ${twice} is listed twice; list each GPU once (cpu may repeat)`);
  }
  return devices;
}

export function parseScale(v: string): number {
  if (v !== '2' && v !== '4') throw new AiSettingsError(`ai_scale must be 2 or 4, got ${v}`);
  return Number(v);
}

export function parseTarget(v: string): Size {
  try {
    return parseTargetOption(v);
  } catch (err) {
    throw new AiSettingsError(`ai_target: ${(err as Error).message}`);
  }
}

export function parseTemporal(v: string): TemporalStrength {
  if (!isTemporalStrength(v)) throw new AiSettingsError(`ai_temporal must be off, low, medium or high, got ${v}`);
  return v;
}

/** The engine's inference worker options for one device; CPU workers share the cores between them. */
export function deviceWorkerOptions(s: AiSettings, d: AiDevice, cpuWorkers: number): InferWorkerOptions {
  const threads = Math.max(1, Math.floor(availableParallelism() / Math.max(1, cpuWorkers)));
  return {
    modelRef: s.model,
    tile: s.tile,
    pad: 10,
    ep: d.kind === 'cpu' ? 'cpu' : 'auto',
    precision: d.kind === 'cpu' ? 'fp32' : 'auto',
    ...(d.kind === 'cpu' && { intraOpNumThreads: threads }),
    ...(d.kind === 'gpu' && /^\d+$/.test(d.id) && { gpu: Number(d.id) }),
  };
}

/** The size of a processed frame for an input of `input`. */
export function outputSize(input: Size, modelScale: number, s: Pick<AiSettings, 'scale' | 'target'>): Size {
  if (s.target) return fitInside(input, s.target);
  if (s.scale !== null) return scaleBy(input, s.scale);
  return { width: input.width * modelScale, height: input.height * modelScale };
}
