import { ENHANCE_COMMAND, FARM_PASSWORD_ENV, MAX_LOCAL_WORKERS } from '../protocol/cli-options';

/**
 * The engine knobs a user can set (`huaju4k.*` settings) and their translation into `huaju4k enhance` arguments.
 * Pure: the caller supplies a getter over the configuration, so this is unit-tested without VS Code.
 * A flag is passed only when the value differs from "let the engine decide", so the engine's own defaults rule.
 */
export interface EnhanceSettings {
  /** A bundled model's id (the dropdown); an older settings.json may still hold an .onnx path here. */
  model: string;
  /** A custom .onnx model; when set it replaces `model`. */
  modelPath: string;
  target: string;
  scale: number;
  tile: string;
  executionProvider: string;
  /** `--gpu n`: the GPU a job runs on by index (CUDA, TensorRT, DirectML); -1 = the provider's default. */
  gpu: number;
  precision: string;
  /** GPU memory for one job, GiB (`--vram-budget`); read from the older key `vramBudgetGiB` when only that is set. */
  gpuMemoryBudget: number;
  temporal: string;
  tileReuse: boolean;
  /** `--audio`: copy (as it is), clean (noise, loudness) or stage (clean + dialogue forward). */
  audio: string;
  /** `--dark-regions`: off, or soften (no GAN texture painted into dark noisy areas). */
  darkRegions: string;
  encoder: string;
  crf: number;
  preset: string;
  segmentFrames: number;
  diskBudgetMultiplier: number;
  diskReserveGB: number;
  bufferMB: number;
  maxFrames: number;
  ffmpegPath: string;
  ffprobePath: string;
  /** Folder of ONNX Runtime's CUDA provider libraries (engine: HUAJU4K_CUDA_PROVIDERS, src/engine/device/cuda-providers.ts). */
  cudaProviderPath: string;
  jobsPerDevice: number;
  /** `--workers N`: engine children of one ordinary enhance on this machine, each on its own ranges (1: no split). */
  workers: number;
  /** `huaju4k.farm.url`: the Redis of a farm (Enhance on Farm → `--farm`); never its password (SecretStorage). */
  'farm.url': string;
  extraArgs: string[];
}

export const DEFAULT_SETTINGS: Readonly<EnhanceSettings> = Object.freeze({
  model: 'realesr-general-x4v3',
  modelPath: '',
  target: '3840x2160',
  scale: 0,
  tile: 'auto',
  executionProvider: 'auto',
  gpu: -1,
  precision: 'auto',
  gpuMemoryBudget: 6,
  temporal: 'medium',
  tileReuse: true,
  audio: 'copy',
  darkRegions: 'off',
  encoder: 'libx264',
  crf: 18,
  preset: 'auto',
  segmentFrames: 0,
  diskBudgetMultiplier: 4,
  diskReserveGB: 2,
  bufferMB: 0,
  maxFrames: 0,
  ffmpegPath: '',
  ffprobePath: '',
  cudaProviderPath: '',
  jobsPerDevice: 1,
  workers: 1,
  'farm.url': '',
  extraArgs: [],
});

export type SettingKey = keyof EnhanceSettings;
export const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as SettingKey[];

/**
 * Settings renamed since a release, new key → the old one: a value the user set under the old key still applies
 * while the new key is unset (VS Code titles a setting from its key, and `vramBudgetGiB` read "Vram Budget Gi B").
 */
export const LEGACY_SETTING_KEYS: Readonly<Partial<Record<SettingKey, string>>> = Object.freeze({
  gpuMemoryBudget: 'vramBudgetGiB',
});

/**
 * Reads one setting by its key, or an old key of LEGACY_SETTING_KEYS; undefined when unset (the default is used
 * then). A renamed setting's new key must answer undefined unless the user set it, so that its old key is read. A
 * value of the wrong type counts as unset.
 */
export type SettingGetter = (key: string) => unknown;

export function readSettings(get: SettingGetter): EnhanceSettings {
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const fallback = DEFAULT_SETTINGS[key];
    const legacy = LEGACY_SETTING_KEYS[key];
    const value = [get(key), legacy ? get(legacy) : undefined].find((v) => sameType(v, fallback));
    out[key] = value ?? fallback;
  }
  return out as unknown as EnhanceSettings;
}

function sameType(value: unknown, fallback: unknown): boolean {
  if (Array.isArray(fallback)) return Array.isArray(value) && value.every((v) => typeof v === 'string');
  if (typeof fallback === 'number') return typeof value === 'number' && Number.isFinite(value);
  return typeof value === typeof fallback;
}

export class SettingsError extends Error {
  constructor(
    readonly key: SettingKey,
    message: string,
  ) {
    super(message);
  }
}

/** Throws SettingsError naming the setting when a value cannot be passed to the engine. */
export function validateSettings(s: EnhanceSettings): void {
  if (s.scale === 0 && !/^\d+x\d+$/.test(s.target)) {
    throw new SettingsError('target', `huaju4k.target must look like 3840x2160 (got "${s.target}").`);
  }
  if (s.scale < 0 || s.scale > 8) throw new SettingsError('scale', `huaju4k.scale must be 0 (use target) or 1–8.`);
  if (!/^(auto|\d+)$/.test(s.tile)) throw new SettingsError('tile', `huaju4k.tile must be "auto" or a number.`);
  if (s.crf < 0 || s.crf > 51) throw new SettingsError('crf', `huaju4k.crf must be between 0 and 51.`);
  checkChoices(s);
  if (!(s.gpuMemoryBudget > 0)) {
    throw new SettingsError('gpuMemoryBudget', 'huaju4k.gpuMemoryBudget (GiB) must be above 0.');
  }
  if (!Number.isInteger(s.gpu) || s.gpu < -1 || s.gpu > 999) {
    throw new SettingsError('gpu', 'huaju4k.gpu must be -1 (the default GPU) or a GPU index 0, 1, ….');
  }
  if (s.jobsPerDevice < 1) throw new SettingsError('jobsPerDevice', `huaju4k.jobsPerDevice must be at least 1.`);
  if (!Number.isInteger(s.workers) || s.workers < 1 || s.workers > MAX_LOCAL_WORKERS) {
    throw new SettingsError('workers', `huaju4k.workers must be a whole number from 1 to ${MAX_LOCAL_WORKERS}.`);
  }
  if (!s.modelPath.trim() && !s.model.trim()) {
    throw new SettingsError(
      'model',
      'huaju4k.model is empty: choose a model, or set huaju4k.modelPath to an .onnx file.',
    );
  }
}

/**
 * Settings that feed a choice option (temporal, precision, ep, encoder, audio, dark regions…) hold one of its values,
 * or `auto` where `auto` passes no flag.
 */
function checkChoices(s: EnhanceSettings): void {
  for (const o of ENHANCE_COMMAND.options) {
    const key = o.setting as SettingKey | undefined;
    if (!o.choices || !key) continue;
    const value = s[key];
    if (typeof value !== 'string' || (value === 'auto' && AUTO_MEANS_NO_FLAG.has(key)) || o.choices.includes(value)) {
      continue;
    }
    const list = `${o.choices.slice(0, -1).join(', ')} or ${o.choices.at(-1)}`;
    throw new SettingsError(key, `huaju4k.${key} must be ${list} (got "${value}").`);
  }
}

/** The choice settings whose `auto` passes no flag (buildEnhanceArgs); any other `auto` would reach the engine. */
const AUTO_MEANS_NO_FLAG = new Set<SettingKey>(['executionProvider', 'precision', 'encoder', 'preset']);

/**
 * `huaju4k.farm.url` as `--farm` gets it: redis:// or rediss://, host required, and no password in it — the
 * password lives in SecretStorage ("huaju4k: Set Farm Password") and reaches the engine as HUAJU4K_FARM_PASSWORD.
 */
export function farmUrlArg(s: Pick<EnhanceSettings, 'farm.url'>): string {
  const url = s['farm.url'].trim();
  if (!url) {
    throw new SettingsError(
      'farm.url',
      "huaju4k.farm.url is not set: set it to the farm's Redis, e.g. redis://host:6379.",
    );
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^rediss?:$/.test(parsed.protocol) || !parsed.hostname) {
    throw new SettingsError(
      'farm.url',
      'huaju4k.farm.url must be a Redis URL: redis://host:6379 or rediss://host:6380.',
    );
  }
  if (parsed.password) {
    throw new SettingsError(
      'farm.url',
      'huaju4k.farm.url holds a password: remove it from the URL (settings are not secret) and run "huaju4k: Set Farm Password" instead.',
    );
  }
  return url;
}

/** The engine environment's secret part for a job's argv: the farm password, only for a farm job. */
export function farmSecretEnv(args: readonly string[], password: string | undefined): Record<string, string> {
  return password && args.includes('--farm') ? { [FARM_PASSWORD_ENV]: password } : {};
}

export interface EnhanceTarget {
  input: string;
  output?: string;
  /** Enhance on Farm: the job's ranges go to the farm's workers (`--farm`) instead of this machine. */
  farm?: boolean;
}

/** What `--model` gets: the custom .onnx file when one is set, else the chosen model (an id, or a legacy path). */
export function modelArg(s: Pick<EnhanceSettings, 'model' | 'modelPath'>): string {
  return s.modelPath.trim() || s.model.trim();
}

/** `enhance <input> [-o out] [flags...]` — the argv after the engine script. */
export function buildEnhanceArgs(job: EnhanceTarget, s: EnhanceSettings): string[] {
  validateSettings(s);
  const args = ['enhance', job.input];
  if (job.output) args.push('-o', job.output);
  args.push('--model', modelArg(s));
  if (s.scale > 0) args.push('--scale', String(s.scale));
  else args.push('--target', s.target);
  args.push('--tile', s.tile);
  if (s.executionProvider !== 'auto') args.push('--ep', s.executionProvider);
  if (s.gpu >= 0 && !job.farm) args.push('--gpu', String(s.gpu));
  if (s.precision !== 'auto') args.push('--precision', s.precision);
  if (s.gpuMemoryBudget !== DEFAULT_SETTINGS.gpuMemoryBudget) args.push('--vram-budget', String(s.gpuMemoryBudget));
  if (s.temporal !== DEFAULT_SETTINGS.temporal) args.push('--temporal', s.temporal);
  if (!s.tileReuse) args.push('--reuse', 'off');
  if (s.darkRegions !== DEFAULT_SETTINGS.darkRegions) args.push('--dark-regions', s.darkRegions);
  if (s.audio !== DEFAULT_SETTINGS.audio) args.push('--audio', s.audio);
  if (s.encoder !== 'auto') args.push('--encoder', s.encoder);
  args.push('--crf', String(s.crf));
  if (s.preset !== 'auto') args.push('--preset', s.preset);
  if (s.segmentFrames > 0) args.push('--segment-frames', String(s.segmentFrames));
  if (s.diskBudgetMultiplier !== DEFAULT_SETTINGS.diskBudgetMultiplier) {
    args.push('--disk-budget', `${s.diskBudgetMultiplier}x`);
  }
  if (s.diskReserveGB !== DEFAULT_SETTINGS.diskReserveGB) args.push('--disk-reserve', `${s.diskReserveGB}G`);
  if (s.bufferMB > 0) args.push('--buffer-mb', String(s.bufferMB));
  if (s.maxFrames > 0) args.push('--max-frames', String(s.maxFrames));
  // The engine takes one way of splitting a job: a farm job's ranges go to the farm, not to local workers.
  if (job.farm) args.push('--farm', farmUrlArg(s));
  else if (s.workers > 1) args.push('--workers', String(s.workers));
  args.push(...s.extraArgs);
  return args;
}

/**
 * The device a job counts against for jobsPerDevice: the provider, and the GPU past the first (the default GPU is
 * GPU 0, so -1 and 0 count as one device; jobs re-attached after a reload without a device count as `default`).
 */
export function jobDevice(s: Pick<EnhanceSettings, 'executionProvider' | 'gpu'>): string {
  const provider = s.executionProvider === 'auto' ? 'default' : s.executionProvider;
  return s.gpu >= 1 && provider !== 'cpu' ? `${provider}:gpu${s.gpu}` : provider;
}

/** Environment for the engine: tool paths travel as variables so the CLI contract stays small. */
export function engineEnv(s: EnhanceSettings): Record<string, string> {
  const env: Record<string, string> = {};
  if (s.ffmpegPath) env.HUAJU4K_FFMPEG = s.ffmpegPath;
  if (s.ffprobePath) env.HUAJU4K_FFPROBE = s.ffprobePath;
  if (s.cudaProviderPath) {
    env.HUAJU4K_CUDA_PROVIDERS = s.cudaProviderPath;
    // The CUDA runtime, cuBLAS and cuDNN may sit in the same folder: the engine's loader looks there too.
    env.LD_LIBRARY_PATH = [s.cudaProviderPath, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  }
  return env;
}
