import type { ParseArgsConfig } from 'node:util';

/** What `--encoder` accepts (the extension's huaju4k.encoder adds `auto`: no flag). */
/** The farm's Redis password, when it is not in the `--farm` URL: an environment variable shows in no process list. */
export const FARM_PASSWORD_ENV = 'HUAJU4K_FARM_PASSWORD';

/** The most engine processes `enhance --workers n` starts on one machine. */
export const MAX_LOCAL_WORKERS = 256;

export const VIDEO_ENCODERS = ['libx264', 'libx265', 'h264_nvenc', 'hevc_nvenc'] as const;
/** `--temporal` strengths. `off` leaves every frame exactly as the model made it. */
export const TEMPORAL_STRENGTHS = ['off', 'low', 'medium', 'high'] as const;
/** `--motion`: follow motion with optical flow on the low-res frames, or blend and reuse only what stayed put. */
export const MOTION_MODES = ['flow', 'off'] as const;
/** `--audio`: the source's sound as it is, cleaned (noise, loudness), or cleaned with dialogue brought forward. */
export const AUDIO_MODES = ['copy', 'clean', 'stage'] as const;
export type AudioMode = (typeof AUDIO_MODES)[number];
/** `--dark-regions`: leave the model's output as it is, or soften it in dark noisy areas (toward its own low-pass: the detail finer than a source pixel goes). */
export const DARK_REGION_MODES = ['off', 'soften'] as const;
/** What `--ep` accepts. `auto` tries this platform's GPU providers (engine gpu/providers.ts autoOrder), then the CPU. */
export const EP_CHOICES = ['auto', 'cuda', 'tensorrt', 'dml', 'coreml', 'webgpu', 'cpu'] as const;
/** What `--precision` accepts. */
export const PRECISION_CHOICES = ['auto', 'fp16', 'fp32', 'int8'] as const;

/**
 * One table per subcommand: the engine's parser and its `--help` text are both derived from it, so an option cannot
 * be accepted without being documented (or documented without being accepted). The extension's settings name the
 * option they feed (`setting`), and a test holds package.json's `contributes.configuration` to this table.
 */
export interface OptionSpec {
  name: string;
  short?: string;
  /** Placeholder for the value; absent for a flag. */
  arg?: string;
  help: string;
  /** Accepted for old command lines but not listed (e.g. renamed options). */
  hidden?: boolean;
  /** The values it accepts, when it is a choice (then also the `huaju4k.<setting>` dropdown's). */
  choices?: readonly string[];
  /** The extension setting (`huaju4k.<setting>`) that feeds it. */
  setting?: string;
}

export interface CommandSpec {
  name: string;
  synopsis: string;
  summary: string;
  options: readonly OptionSpec[];
}

const JSON_OPTION: OptionSpec = { name: 'json', help: 'print one typed JSON event per line on stdout' };
const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', help: 'show this help and exit' };
const EP_OPTION: OptionSpec = {
  name: 'ep',
  arg: EP_CHOICES.join('|'),
  choices: EP_CHOICES,
  setting: 'executionProvider',
  help: 'ONNX Runtime execution provider (default auto: a GPU provider when one works, else the CPU)',
};
const PRECISION_OPTION: OptionSpec = {
  name: 'precision',
  arg: PRECISION_CHOICES.join('|'),
  choices: PRECISION_CHOICES,
  setting: 'precision',
  help: 'model arithmetic (default auto: fp16 on a GPU; on the CPU fp32, or int8 where models.json marks it and the CPU has VNNI or ARM dot products)',
};
const ENCODER_OPTION: OptionSpec = {
  name: 'encoder',
  arg: VIDEO_ENCODERS.join('|'),
  choices: VIDEO_ENCODERS,
  setting: 'encoder',
  help: 'ffmpeg video encoder (default libx264)',
};

const PRESET_OPTION: OptionSpec = {
  name: 'preset',
  arg: 'p',
  setting: 'preset',
  help: 'encoder preset (default veryfast for x264)',
};

export const ENHANCE_COMMAND: CommandSpec = {
  name: 'enhance',
  synopsis: 'huaju4k enhance <input> [options]',
  summary: 'Upscale <input> to 4K (default output <input>.4k.mp4 beside it).',
  options: [
    { name: 'output', short: 'o', arg: 'file', help: 'output file (.mp4, .mkv, .mov, .webm)' },
    {
      name: 'model',
      short: 'm',
      arg: 'id|path.onnx',
      setting: 'model',
      help: 'model id (see docs/dev/models.md), an .onnx file, or null (built-in nearest ×4, for measuring)',
    },
    {
      name: 'target',
      arg: 'WxH',
      setting: 'target',
      help: 'box the output is fitted inside, aspect kept (default 3840x2160)',
    },
    { name: 'scale', arg: 'n', setting: 'scale', help: 'output = input × n instead of a target box, n in (0, 16]' },
    {
      name: 'fit',
      arg: 'contain|pad',
      help: 'contain: the picture fitted in --target (default); pad: exactly it, bars',
    },
    {
      name: 'same-size',
      help: 'restore a source already at the target at that size (the model runs on it shrunk by its scale)',
    },
    { name: 'tile', arg: 'n|auto', setting: 'tile', help: 'model tile size in input pixels (default auto)' },
    ENCODER_OPTION,
    { name: 'crf', arg: 'n', setting: 'crf', help: 'encoder quality 0-51, lower is better (default 18)' },
    PRESET_OPTION,
    { name: 'max-frames', arg: 'n', setting: 'maxFrames', help: 'stop after n frames (a quick trial)' },
    {
      name: 'buffer-mb',
      arg: 'n',
      setting: 'bufferMB',
      help: 'memory for frames in flight, MiB (default: from the frame size)',
    },
    { name: 'threads', arg: 'n', help: 'model threads on the CPU (default: all cores)' },
    EP_OPTION,
    {
      name: 'gpu',
      arg: 'n',
      setting: 'gpu',
      help: 'the GPU to run on, by index (CUDA, TensorRT, DirectML; WebGPU and CoreML use GPU 0 only)',
    },
    PRECISION_OPTION,
    {
      name: 'vram-budget',
      arg: 'size',
      setting: 'gpuMemoryBudget',
      help: 'GPU memory for one job: 6, 6G, 512M (default 6 GiB)',
    },
    {
      name: 'segment-frames',
      arg: 'n',
      setting: 'segmentFrames',
      help: 'frames per checkpoint segment (default about 10 s of video)',
    },
    { name: 'resume', help: 'continue an interrupted run of the same input and output exactly' },
    { name: 'overwrite', short: 'y', help: 'replace an existing output (without it an existing output is refused)' },
    {
      name: 'disk-budget',
      arg: '4x|20G',
      setting: 'diskBudgetMultiplier',
      help: 'disk for output + work files: a multiple of the input or a size',
    },
    {
      name: 'disk-reserve',
      arg: 'size',
      setting: 'diskReserveGB',
      help: 'free space always left on the output disk (default 2G)',
    },
    { name: 'disk-reserve-gb', arg: 'n', help: 'old spelling of --disk-reserve <n>G', hidden: true },
    {
      name: 'temporal',
      arg: TEMPORAL_STRENGTHS.join('|'),
      choices: TEMPORAL_STRENGTHS,
      setting: 'temporal',
      help: 'temporal stabilisation strength (default medium)',
    },
    {
      name: 'reuse',
      arg: 'on|off',
      choices: ['on', 'off'],
      setting: 'tileReuse',
      help: 'reuse upscaled tiles where the input did not change (default on)',
    },
    { name: 'reuse-threshold', arg: 'levels', help: 'largest change (0-255) still counted as unchanged' },
    { name: 'refresh-every', arg: 'n', help: 'run the model on every tile at least every n frames' },
    {
      name: 'motion',
      arg: MOTION_MODES.join('|'),
      choices: MOTION_MODES,
      help: 'follow camera and object motion with optical flow (default flow)',
    },
    {
      name: 'dark-regions',
      arg: DARK_REGION_MODES.join('|'),
      choices: DARK_REGION_MODES,
      setting: 'darkRegions',
      help: 'soften: no GAN texture painted into large dark noisy areas and clipped highlights (default off)',
    },
    {
      name: 'audio',
      arg: AUDIO_MODES.join('|'),
      choices: AUDIO_MODES,
      setting: 'audio',
      help: 'copy the sound as it is (default), clean it (noise, loudness -16 LUFS), or stage: clean + dialogue forward',
    },
    {
      name: 'publish',
      arg: 'ws://host:port/video_in',
      help: 'send previews to a stream hub (token: HUAJU4K_HUB_TOKEN)',
    },
    {
      name: 'workers',
      arg: 'n',
      help: 'split the job over n engine processes on this machine (ranges of segments)',
      setting: 'workers',
    },
    { name: 'devices', arg: '0,1', help: 'split the job over these GPUs (by index), one engine process per device' },
    {
      name: 'farm',
      arg: 'redis://host:6379',
      help: `split the job over the workers of a BullMQ farm on Redis (password: ${FARM_PASSWORD_ENV} or in the URL)`,
      setting: 'farm.url',
    },
    { name: 'ranges', arg: 'n', help: 'ranges a split job is cut into (default 2 per worker; 16 on a farm)' },
    {
      name: 'range',
      arg: 'first:end',
      help: 'run only these segments of a split job; - reads ranges from stdin, one a line (started by --workers/--farm)',
    },
    JSON_OPTION,
    HELP_OPTION,
  ],
};

/** A command whose only options are --json and --help. */
function jsonCommand(name: string, synopsis: string, summary: string): CommandSpec {
  return { name, synopsis, summary, options: [JSON_OPTION, HELP_OPTION] };
}

export const RESUME_COMMAND = jsonCommand(
  'resume',
  'huaju4k resume <output|work folder> [options]',
  'Continue an interrupted job with the settings it started with.',
);

export const JOBS_COMMAND = jsonCommand(
  'jobs',
  'huaju4k jobs [<folder|output>...] [options]',
  'List interrupted and running jobs under the folders (default: the current folder).',
);

export const PROBE_COMMAND = jsonCommand(
  'probe',
  'huaju4k probe <input> [options]',
  'Show what the engine reads from a video (size, frame rate, frames, streams).',
);

export const BENCH_COMMAND: CommandSpec = {
  name: 'bench',
  synopsis: 'huaju4k bench [<input>] [options]',
  summary: 'Measure model-only, streaming and traditional-pipeline fps on a clip (default: the bundled sample).',
  options: [
    { name: 'model', short: 'm', arg: 'id|path.onnx', help: 'model id or .onnx file' },
    { name: 'frames', arg: 'n', help: 'frames to measure (default 20)' },
    { name: 'mode', arg: 'all|model|stream|traditional', help: 'what to measure (default all)' },
    {
      name: 'null',
      help: 'the engine with a built-in ×4 nearest (--model null) beside ffmpeg alone and two ffmpegs on a pipe',
    },
    EP_OPTION,
    PRECISION_OPTION,
    ENCODER_OPTION,
    PRESET_OPTION,
    JSON_OPTION,
    HELP_OPTION,
  ],
};

export const WORKER_COMMAND: CommandSpec = {
  name: 'worker',
  synopsis: 'huaju4k worker --farm redis://host:6379 [options]',
  summary: 'Take ranges of farm jobs from a BullMQ queue on Redis and enhance them on this machine.',
  options: [
    {
      name: 'farm',
      arg: 'redis://host:6379',
      help: `the farm's Redis (rediss:// for TLS; password in ${FARM_PASSWORD_ENV} or in the URL)`,
    },
    {
      name: 'path-map',
      arg: 'from=to',
      help: 'a shared folder as the coordinator names it = as this host does (repeatable)',
    },
    EP_OPTION,
    { name: 'device', arg: 'n', help: "the GPU this worker's engines use, by index (as enhance --gpu)" },
    { name: 'threads', arg: 'n', help: 'model threads on the CPU (default: all cores)' },
    { name: 'lock-ms', arg: 'ms', help: "how soon a lost worker's range goes back to the queue (default 30000)" },
    JSON_OPTION,
    HELP_OPTION,
  ],
};

export const COMMANDS: readonly CommandSpec[] = [
  ENHANCE_COMMAND,
  RESUME_COMMAND,
  JOBS_COMMAND,
  PROBE_COMMAND,
  BENCH_COMMAND,
  WORKER_COMMAND,
];

type ParseOptions = NonNullable<ParseArgsConfig['options']>;

/** The `node:util` parseArgs options of a command (every value is a string; flags are booleans). */
export function parseOptionsOf(spec: CommandSpec): ParseOptions {
  const out: ParseOptions = {};
  for (const o of spec.options) {
    out[o.name] = o.short
      ? { type: o.arg ? 'string' : 'boolean', short: o.short }
      : { type: o.arg ? 'string' : 'boolean' };
  }
  return out;
}

const optionLabel = (o: OptionSpec): string =>
  `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.arg ? ` <${o.arg}>` : ''}`;

/** `huaju4k <command> --help`. */
export function commandUsage(spec: CommandSpec): string {
  const shown = spec.options.filter((o) => !o.hidden);
  const width = Math.min(44, Math.max(...shown.map((o) => optionLabel(o).length)));
  const lines = shown.map((o) => {
    const label = optionLabel(o);
    return label.length > width
      ? `  ${label}\n  ${' '.repeat(width)}  ${o.help}`
      : `  ${label.padEnd(width)}  ${o.help}`;
  });
  return `usage: ${spec.synopsis}\n${spec.summary}\n\noptions:\n${lines.join('\n')}`;
}
