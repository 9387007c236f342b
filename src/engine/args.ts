import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ExitCode } from '../protocol/engine-events';
import { type BudgetSpec, parseBudgetSpec, parseBytes } from './disk/size-spec';
import { type EncoderSettings, VIDEO_ENCODERS, type VideoEncoder } from './encoder';
import { EngineError } from './errors';
import { parseVramBudget } from './gpu/budget';
import { type PrecisionChoice, parsePrecisionOption } from './gpu/precision';
import { type EpChoice, parseEpOption } from './gpu/providers';
import {
  DEFAULT_TEMPORAL_STRENGTH,
  isTemporalStrength,
  TEMPORAL_STRENGTHS,
  type TemporalStrength,
} from './temporal/strength';
import { parseTileOption } from './tile-size';

export const USAGE = `usage:
  huaju4k enhance <input> [-o <output>] [--model <id|path.onnx>] [--target <WxH>|--scale <n>] [--tile <n|auto>]
          [--encoder <libx264|libx265|h264_nvenc|hevc_nvenc>] [--crf <n>] [--preset <p>] [--max-frames <n>]
          [--buffer-mb <n>] [--threads <n>] [--ep <auto|cuda|tensorrt|dml|coreml|webgpu|cpu>] [--vram-budget <GiB>] [--json]
          [--precision auto|fp16|fp32]
          [--segment-frames <n>] [--resume] [--disk-budget <4x|20G>] [--disk-reserve <2G>]
          [--temporal off|low|medium|high] [--reuse on|off] [--reuse-threshold <levels>] [--refresh-every <n>]
          [--publish ws://host:port/video_in]   (hub token from HUAJU4K_HUB_TOKEN)
  huaju4k resume <output|work folder> [--json]
  huaju4k jobs [<folder|output>...] [--json]
  huaju4k probe <input> [--json]
  huaju4k bench [<input>] [--model <id|path>] [--frames <n>] [--ep <...>] [--precision <...>] [--encoder <...>] [--json]
  huaju4k hub ...
exit codes: 0 done, 1 failure, 2 bad input/usage, 3 environment (ffmpeg/ffprobe/model), 4 disk, 5 cancelled`;

export interface EnhanceArgs {
  input: string;
  output?: string;
  model?: string;
  target?: string;
  scale?: number;
  tile: number | 'auto';
  encoder: EncoderSettings;
  maxFrames?: number;
  bufferMb?: number;
  threads?: number;
  /** Execution provider; `auto` tries the fastest available and falls back with a warning. */
  ep: EpChoice;
  /** Model arithmetic; `auto` is fp16 on GPU providers and fp32 on the CPU. */
  precision: PrecisionChoice;
  /** GPU memory cap for the session (bytes); tiles are sized to stay under it. */
  vramBudgetBytes: number;
  segmentFrames?: number;
  resume: boolean;
  /** Disk budget as given (a multiple of the input size, or bytes); resolved once the input size is known. */
  diskBudget?: BudgetSpec;
  diskReserveBytes?: number;
  /** Temporal stabilisation strength (off = the model's frames untouched). */
  temporal: TemporalStrength;
  /** Reuse the previous output for low-res tiles that did not change (temporal/reuse-upscaler.ts). */
  reuse: boolean;
  reuseThreshold?: number;
  refreshEvery?: number;
  /** A stream hub's /video_in (ours or blankend's) that receives the preview frames. */
  publish?: string;
  json: boolean;
}

const usage = (message: string): EngineError => new EngineError(ExitCode.badInput, 'usage', message, USAGE);

function int(name: string, text: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw usage(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return n;
}

function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true as const, strict: true as const });
  } catch (err) {
    throw usage(err instanceof Error ? err.message : String(err));
  }
}

export function parseEnhanceArgs(argv: string[]): EnhanceArgs {
  const { values: v, positionals } = parse(argv, {
    output: { type: 'string', short: 'o' },
    model: { type: 'string', short: 'm' },
    target: { type: 'string' },
    scale: { type: 'string' },
    tile: { type: 'string' },
    encoder: { type: 'string' },
    crf: { type: 'string' },
    preset: { type: 'string' },
    'max-frames': { type: 'string' },
    'buffer-mb': { type: 'string' },
    threads: { type: 'string' },
    ep: { type: 'string' },
    precision: { type: 'string' },
    'vram-budget': { type: 'string' },
    'segment-frames': { type: 'string' },
    resume: { type: 'boolean' },
    'disk-budget': { type: 'string' },
    'disk-reserve': { type: 'string' },
    'disk-reserve-gb': { type: 'string' },
    temporal: { type: 'string' },
    reuse: { type: 'string' },
    'reuse-threshold': { type: 'string' },
    'refresh-every': { type: 'string' },
    publish: { type: 'string' },
    json: { type: 'boolean' },
  });
  const str = (k: keyof typeof v): string | undefined => {
    const x = v[k];
    return typeof x === 'string' ? x : undefined;
  };
  if (positionals.length !== 1) throw usage(`enhance takes exactly one input file, got ${positionals.length}`);
  if (str('target') && str('scale')) throw usage('use either --target or --scale, not both');
  const codec = str('encoder') ?? 'libx264';
  if (!(VIDEO_ENCODERS as readonly string[]).includes(codec)) {
    throw usage(`--encoder must be one of ${VIDEO_ENCODERS.join(', ')}, got "${codec}"`);
  }
  const scaleText = str('scale');
  const scale = scaleText === undefined ? undefined : Number(scaleText);
  if (scale !== undefined && !(scale > 0 && scale <= 16))
    throw usage(`--scale must be a number in (0, 16], got "${scaleText}"`);
  let tile: number | 'auto';
  try {
    tile = parseTileOption(str('tile'));
  } catch (err) {
    throw usage((err as Error).message);
  }
  let ep: EpChoice;
  let precision: PrecisionChoice;
  let vramBudgetBytes: number;
  try {
    ep = parseEpOption(str('ep'));
    precision = parsePrecisionOption(str('precision'));
    vramBudgetBytes = parseVramBudget(str('vram-budget'));
  } catch (err) {
    throw usage((err as Error).message);
  }
  const preset = str('preset');
  if (preset !== undefined && !/^[a-z0-9]+$/.test(preset)) throw usage(`--preset looks wrong: "${preset}"`);
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
  const publish = str('publish');
  if (publish !== undefined && !/^wss?:\/\/[^/]+/.test(publish)) {
    throw usage(`--publish takes a WebSocket URL such as ws://127.0.0.1:8765/video_in, got "${publish}"`);
  }
  return {
    input: positionals[0],
    output: str('output'),
    model: str('model'),
    target: str('target'),
    scale,
    tile,
    encoder: { codec: codec as VideoEncoder, crf: int('crf', str('crf'), 0, 51), preset },
    maxFrames: int('max-frames', str('max-frames'), 1),
    bufferMb: int('buffer-mb', str('buffer-mb'), 16, 1 << 20),
    threads: int('threads', str('threads'), 1, 256),
    ep,
    precision,
    vramBudgetBytes,
    segmentFrames: int('segment-frames', str('segment-frames'), 1, 1_000_000),
    resume: v.resume === true,
    ...diskArgs(str('disk-budget'), str('disk-reserve'), str('disk-reserve-gb')),
    temporal,
    reuse: reuse === 'on',
    reuseThreshold,
    refreshEvery: int('refresh-every', str('refresh-every'), 0, 1_000_000),
    publish,
    json: v.json === true,
  };
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

export interface ResumeArgs {
  target: string;
  json: boolean;
}

export function parseResumeArgs(argv: string[]): ResumeArgs {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } });
  if (positionals.length !== 1) throw usage('resume takes the output file (or its .huaju4k work folder)');
  return { target: positionals[0], json: values.json === true };
}

export function parseJobsArgs(argv: string[]): { paths: string[]; json: boolean } {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } });
  return { paths: positionals.length ? positionals : ['.'], json: values.json === true };
}

export function parseProbeArgs(argv: string[]): { input: string; json: boolean } {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } });
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
  json: boolean;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values, positionals } = parse(argv, {
    model: { type: 'string', short: 'm' },
    frames: { type: 'string' },
    mode: { type: 'string' },
    ep: { type: 'string' },
    precision: { type: 'string' },
    encoder: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length > 1) throw usage('bench takes at most one input file');
  const text = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);
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
    json: values.json === true,
  };
}
