import { parseArgs } from 'node:util';
import {
  AUDIO_MODES,
  type AudioMode,
  BENCH_COMMAND,
  COMMANDS,
  type CommandSpec,
  DARK_REGION_MODES,
  ENHANCE_COMMAND,
  JOBS_COMMAND,
  PROBE_COMMAND,
  parseOptionsOf,
  RESUME_COMMAND,
} from '../protocol/cli-options';
import { ExitCode } from '../protocol/engine-events';
import { parseVramBudget } from './device/budget';
import { parseGpu } from './device/gpu-choice';
import { type PrecisionChoice, parsePrecisionOption } from './device/precision';
import { type EpChoice, parseEpOption } from './device/providers';
import { type BudgetSpec, parseBudgetSpec, parseBytes } from './disk/size-spec';
import { EngineError } from './errors';
import { type FarmArgs, farmArgs } from './farm/farm-args';
import { type EncoderSettings, VIDEO_ENCODERS, type VideoEncoder } from './ffmpeg/encoder';
import { ENCODER_PRESETS } from './ffmpeg/encoder-presets';
import { parseTileOption } from './inference/tile-size';
import { FIT_MODES, type FitMode } from './pipeline/target-size';
import { DEFAULT_MOTION, isMotionMode, MOTION_MODES, type MotionMode } from './temporal/motion';
import {
  DEFAULT_TEMPORAL_STRENGTH,
  isTemporalStrength,
  TEMPORAL_STRENGTHS,
  type TemporalStrength,
} from './temporal/strength';

/** `huaju4k --help`: the commands; each command's own options come from `huaju4k <command> --help`. */
export const USAGE = `usage:
${COMMANDS.map((c) => `  ${c.synopsis.padEnd(48)} ${c.summary}`).join('\n')}
  ${'huaju4k hub [options]'.padEnd(48)} Run the blankend-compatible stream hub.
  ${'huaju4k ai-worker --relay tcp://HOST:PORT'.padEnd(48)} Serve a blankend ROUTER as its AI worker.
  ${'huaju4k --version'.padEnd(48)} Print the version.
Run huaju4k <command> --help for the options of a command.
exit codes: 0 done, 1 failure, 2 bad input/usage, 3 environment (ffmpeg/ffprobe/model), 4 disk, 5 cancelled`;

export interface EnhanceArgs extends FarmArgs {
  input: string;
  output?: string;
  model?: string;
  /** A box the picture is fitted inside (display aspect kept); default 3840x2160. */
  target?: string;
  scale?: number;
  /** `contain` (default): the frame is the fitted picture; `pad`: the frame is the --target box, with bars. */
  fit: FitMode;
  /** Restore a source that already reaches the target at that size (refused otherwise: nothing to upscale). */
  sameSize: boolean;
  tile: number | 'auto';
  encoder: EncoderSettings;
  maxFrames?: number;
  bufferMb?: number;
  threads?: number;
  /** Execution provider; `auto` tries the fastest available and falls back with a warning. */
  ep: EpChoice;
  /** `--gpu n`: the GPU index the provider opens (device/gpu-choice.ts); default HUAJU4K_GPU, else the first. */
  gpu?: number;
  /** Model arithmetic; `auto` is fp16 on GPU providers and fp32 on the CPU. */
  precision: PrecisionChoice;
  /** GPU memory cap for the session (bytes); tiles are sized to stay under it. */
  vramBudgetBytes: number;
  segmentFrames?: number;
  resume: boolean;
  /** Replace an existing output (refused otherwise). */
  overwrite: boolean;
  /** Disk budget as given (a multiple of the input size, or bytes); resolved once the input size is known. */
  diskBudget?: BudgetSpec;
  diskReserveBytes?: number;
  /** Temporal stabilisation strength (off = the model's frames untouched). */
  temporal: TemporalStrength;
  /** Reuse the previous output for low-res tiles that did not change (temporal/reuse-upscaler.ts). */
  reuse: boolean;
  reuseThreshold?: number;
  refreshEvery?: number;
  /** Follow motion with low-res optical flow in the blend and the tile reuse (temporal/motion.ts). */
  motion: MotionMode;
  /** A stream hub's /video_in (ours or blankend's) that receives the preview frames. */
  publish?: string;
  /** The sound: as it is (copy), or measured and treated in the join (audio/audio-treatment.ts). */
  audio: AudioMode;
  /** Soften the model's output toward its own low-pass in dark noisy areas and clipped highlights (stage-light/). */
  darkRegions: (typeof DARK_REGION_MODES)[number];
  json: boolean;
}

const usage = (message: string, spec?: CommandSpec): EngineError =>
  new EngineError(ExitCode.badInput, 'usage', message, spec ? `see huaju4k ${spec.name} --help` : 'see huaju4k --help');

/** Usage errors of a command point at that command's --help. */
function forCommand<T>(spec: CommandSpec, parseIt: () => T): T {
  try {
    return parseIt();
  } catch (err) {
    if (err instanceof EngineError && err.reason === 'usage') throw usage(err.message, spec);
    throw err;
  }
}

function int(name: string, text: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw usage(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return n;
}

/**
 * `--scale -1`: node's parser calls a value that starts with a dash ambiguous ("use --scale=-XYZ"). A negative number
 * after an option that takes a value is that value, so it is joined and the option's own check says what is wrong.
 */
function joinNegativeValues(argv: string[], spec: CommandSpec): string[] {
  const takesValue = new Set(spec.options.filter((o) => o.arg).map((o) => `--${o.name}`));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') return [...out, ...argv.slice(i)];
    const next = argv[i + 1];
    if (takesValue.has(argv[i]) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

function parse(argv: string[], spec: CommandSpec) {
  try {
    const args = joinNegativeValues(argv, spec);
    return parseArgs({ args, options: parseOptionsOf(spec), allowPositionals: true, strict: true });
  } catch (err) {
    throw usage(err instanceof Error ? err.message : String(err), spec);
  }
}

export function parseEnhanceArgs(argv: string[]): EnhanceArgs {
  return forCommand(ENHANCE_COMMAND, () => parseEnhanceArgsUnchecked(argv));
}

function parseEnhanceArgsUnchecked(argv: string[]): EnhanceArgs {
  const { values: v, positionals } = parse(argv, ENHANCE_COMMAND);
  const str = (k: keyof typeof v): string | undefined => {
    const x = v[k];
    return typeof x === 'string' ? x : undefined;
  };
  if (positionals.length !== 1) throw usage(`enhance takes exactly one input file, got ${positionals.length}`);
  const codec = str('encoder') ?? 'libx264';
  if (!(VIDEO_ENCODERS as readonly string[]).includes(codec)) {
    throw usage(`--encoder must be one of ${VIDEO_ENCODERS.join(', ')}, got "${codec}"`);
  }
  let tile: number | 'auto';
  try {
    tile = parseTileOption(str('tile'));
  } catch (err) {
    throw usage((err as Error).message);
  }
  let ep: EpChoice;
  let precision: PrecisionChoice;
  let vramBudgetBytes: number;
  let gpu: number | undefined;
  try {
    ep = parseEpOption(str('ep'));
    gpu = str('gpu') === undefined ? undefined : parseGpu(str('gpu') ?? '');
    if (gpu !== undefined && str('devices') !== undefined) throw new Error('use --devices 0,1 or --gpu n, not both');
    precision = parsePrecisionOption(str('precision'));
    vramBudgetBytes = parseVramBudget(str('vram-budget'));
  } catch (err) {
    throw usage((err as Error).message);
  }
  const preset = presetOption(str('preset'), codec as VideoEncoder);
  const temporal = str('temporal') ?? DEFAULT_TEMPORAL_STRENGTH;
  if (!isTemporalStrength(temporal)) {
    throw usage(`--temporal must be one of ${TEMPORAL_STRENGTHS.join(', ')}, got "${temporal}"`);
  }
  const reuse = str('reuse') ?? 'on';
  if (reuse !== 'on' && reuse !== 'off') throw usage(`--reuse must be on or off, got "${reuse}"`);
  const thresholdText = str('reuse-threshold');
  const reuseThreshold = thresholdText === undefined ? undefined : Number(thresholdText);
  if (reuseThreshold !== undefined && !(reuseThreshold >= 0 && reuseThreshold <= 255)) {
    throw usage(`--reuse-threshold must be a number of levels from 0 to 255, got "${thresholdText}"`);
  }
  const motion = str('motion') ?? DEFAULT_MOTION;
  if (!isMotionMode(motion)) throw usage(`--motion must be one of ${MOTION_MODES.join(', ')}, got "${motion}"`);
  const publish = str('publish');
  if (publish !== undefined && !/^wss?:\/\/[^/]+/.test(publish)) {
    throw usage(`--publish takes a WebSocket URL such as ws://127.0.0.1:8765/video_in, got "${publish}"`);
  }
  return {
    input: positionals[0],
    output: str('output'),
    model: str('model'),
    ...sizeArgs(str('target'), str('scale'), str('fit'), v['same-size'] === true),
    tile,
    encoder: { codec: codec as VideoEncoder, crf: int('crf', str('crf'), 0, 51), preset },
    maxFrames: int('max-frames', str('max-frames'), 1),
    bufferMb: int('buffer-mb', str('buffer-mb'), 16, 1 << 20),
    threads: int('threads', str('threads'), 1, 256),
    ep,
    ...(gpu !== undefined && { gpu }),
    precision,
    vramBudgetBytes,
    segmentFrames: int('segment-frames', str('segment-frames'), 1, 1_000_000),
    resume: v.resume === true,
    overwrite: v.overwrite === true,
    ...diskArgs(str('disk-budget'), str('disk-reserve'), str('disk-reserve-gb')),
    temporal,
    reuse: reuse === 'on',
    reuseThreshold,
    refreshEvery: int('refresh-every', str('refresh-every'), 0, 1_000_000),
    motion,
    publish,
    ...farmArgs(str),
    ...stageArgs(str('audio'), str('dark-regions')),
    json: v.json === true,
  };
}

/** `--audio` and `--dark-regions`: what a stage recording's sound and lighting get. */
function stageArgs(audio = 'copy', darkRegions = 'off'): Pick<EnhanceArgs, 'audio' | 'darkRegions'> {
  if (!(AUDIO_MODES as readonly string[]).includes(audio)) {
    throw usage(`--audio must be one of ${AUDIO_MODES.join(', ')}, got "${audio}"`);
  }
  if (darkRegions !== 'off' && darkRegions !== 'soften') {
    throw usage(`--dark-regions must be one of ${DARK_REGION_MODES.join(', ')}, got "${darkRegions}"`);
  }
  return { audio: audio as AudioMode, darkRegions };
}

function sizeArgs(
  target: string | undefined,
  scaleText: string | undefined,
  fitText: string | undefined,
  sameSize: boolean,
): Pick<EnhanceArgs, 'target' | 'scale' | 'fit' | 'sameSize'> {
  if (target && scaleText) throw usage('use either --target or --scale, not both');
  const scale = scaleText === undefined ? undefined : Number(scaleText);
  if (scale !== undefined && !(scale > 0 && scale <= 16))
    throw usage(`--scale must be a number in (0, 16], got "${scaleText}"`);
  const fit = fitText ?? 'contain';
  if (!(FIT_MODES as readonly string[]).includes(fit)) {
    throw usage(`--fit must be contain (fit inside --target) or pad (exactly --target, with bars), got "${fit}"`);
  }
  if (fit === 'pad' && scale !== undefined) throw usage('--fit pad needs a box: use it with --target, not --scale');
  return { target, scale, fit: fit as FitMode, sameSize };
}

function diskArgs(
  budget: string | undefined,
  reserve: string | undefined,
  reserveGb: string | undefined,
): Pick<EnhanceArgs, 'diskBudget' | 'diskReserveBytes'> {
  const diskBudget = budget === undefined ? undefined : parseBudgetSpec(budget);
  if (budget !== undefined && !diskBudget) {
    throw usage(`--disk-budget must be a multiple of the input size (4x) or a size (20G, 500M), got "${budget}"`);
  }
  const reserveText = reserve ?? (reserveGb === undefined ? undefined : `${reserveGb}G`);
  const diskReserveBytes = reserveText === undefined ? undefined : parseBytes(reserveText);
  if (reserveText !== undefined && diskReserveBytes === undefined) {
    throw usage(`--disk-reserve must be a size (2G, 500M, 0), got "${reserveText}"`);
  }
  return { diskBudget, diskReserveBytes };
}

/**
 * The enhance arguments a checkpoint keeps for `resume`: the options as given, without --resume/--json and the
 * paths, then `-o <output> -- <input>` absolute, so a resume from any folder (and of an input named `-x.mp4`) reads
 * them back as they were meant.
 */
export function checkpointArgv(argv: string[], input: string, output: string): string[] {
  const { tokens } = parseArgs({
    args: joinNegativeValues(argv, ENHANCE_COMMAND),
    options: parseOptionsOf(ENHANCE_COMMAND),
    allowPositionals: true,
    strict: true,
    tokens: true,
  });
  const kept: string[] = [];
  for (const t of tokens) {
    if (t.kind !== 'option' || ['resume', 'json', 'output'].includes(t.name)) continue;
    kept.push(`--${t.name}`);
    if (t.value !== undefined) kept.push(t.value);
  }
  return [...kept, '-o', output, '--', input];
}

export interface ResumeArgs {
  target: string;
  json: boolean;
}

export function parseResumeArgs(argv: string[]): ResumeArgs {
  return forCommand(RESUME_COMMAND, () => parseResumeArgsUnchecked(argv));
}

function parseResumeArgsUnchecked(argv: string[]): ResumeArgs {
  const { values, positionals } = parse(argv, RESUME_COMMAND);
  if (positionals.length !== 1) throw usage('resume takes the output file (or its .huaju4k work folder)');
  return { target: positionals[0], json: values.json === true };
}

export interface JobsArgs {
  paths: string[];
  json: boolean;
}

export function parseJobsArgs(argv: string[]): JobsArgs {
  return forCommand(JOBS_COMMAND, () => parseJobsArgsUnchecked(argv));
}

function parseJobsArgsUnchecked(argv: string[]): JobsArgs {
  const { values, positionals } = parse(argv, JOBS_COMMAND);
  return { paths: positionals.length ? positionals : ['.'], json: values.json === true };
}

export interface ProbeArgs {
  input: string;
  json: boolean;
}

export function parseProbeArgs(argv: string[]): ProbeArgs {
  return forCommand(PROBE_COMMAND, () => parseProbeArgsUnchecked(argv));
}

function parseProbeArgsUnchecked(argv: string[]): ProbeArgs {
  const { values, positionals } = parse(argv, PROBE_COMMAND);
  if (positionals.length !== 1) throw usage('probe takes exactly one input file');
  return { input: positionals[0], json: values.json === true };
}

export type BenchMode = 'all' | 'model' | 'stream' | 'traditional';

export interface BenchArgs {
  input?: string;
  model?: string;
  frames: number;
  mode: BenchMode;
  /** Provider and precision, as for enhance (default auto: the GPU when there is one). */
  ep: EpChoice;
  precision: PrecisionChoice;
  /** The streaming and traditional modes' encoder (on a GPU, NVENC keeps the encoder off the critical path). */
  encoder: VideoEncoder;
  /** Encoder preset for every mode (default the engine's, veryfast for x264). */
  preset?: string;
  /** `--null`: the engine with the built-in ×4 nearest beside ffmpeg alone and two piped ffmpegs (bench-null.ts). */
  null: boolean;
  json: boolean;
}

/** `--preset`, one the encoder knows (else ffmpeg fails after the model loaded and the first frames were made). */
function presetOption(preset: string | undefined, codec: VideoEncoder): string | undefined {
  if (preset !== undefined && !ENCODER_PRESETS[codec].includes(preset)) {
    throw usage(`--preset for ${codec} must be one of ${ENCODER_PRESETS[codec].join(', ')}, got "${preset}"`);
  }
  return preset;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  return forCommand(BENCH_COMMAND, () => parseBenchArgsUnchecked(argv));
}

function parseBenchArgsUnchecked(argv: string[]): BenchArgs {
  const { values, positionals } = parse(argv, BENCH_COMMAND);
  if (positionals.length > 1) throw usage('bench takes at most one input file');
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  let ep: EpChoice;
  let precision: PrecisionChoice;
  try {
    ep = parseEpOption(text(values.ep));
    precision = parsePrecisionOption(text(values.precision));
  } catch (err) {
    throw usage((err as Error).message);
  }
  const encoder = text(values.encoder) ?? 'libx264';
  if (!(VIDEO_ENCODERS as readonly string[]).includes(encoder)) {
    throw usage(`--encoder must be one of ${VIDEO_ENCODERS.join(', ')}, got "${encoder}"`);
  }
  const mode = typeof values.mode === 'string' ? values.mode : 'all';
  if (mode !== 'all' && mode !== 'model' && mode !== 'stream' && mode !== 'traditional') {
    throw usage('--mode must be all, model, stream or traditional');
  }
  return {
    input: positionals[0],
    model: typeof values.model === 'string' ? values.model : undefined,
    frames: int('frames', typeof values.frames === 'string' ? values.frames : undefined, 1) ?? 20,
    mode,
    ep,
    precision,
    encoder: encoder as VideoEncoder,
    preset: presetOption(text(values.preset), encoder as VideoEncoder),
    null: values.null === true,
    json: values.json === true,
  };
}
