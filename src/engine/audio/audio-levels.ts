import { ExitCode } from '../../protocol/engine-events';
import { runTool } from '../children';
import { EngineError, stderrTail } from '../errors';

/** What the measurement pass reads off a recording (or off the denoise chain's output), all from ffmpeg's meters. */
export interface AudioLevels {
  /** Integrated loudness (EBU R128), LUFS: loudnorm's first pass. */
  integratedLufs: number;
  /** True peak, dBTP. */
  truePeakDb: number;
  /** Loudness range, LU. */
  lraLu: number;
  /** loudnorm's gating threshold, LUFS (its second pass takes it back). */
  thresholdLufs: number;
  /** The quiet windows' level, dBFS: the room in the pauses (5th percentile of the 100 ms RMS levels). */
  noiseFloorDb: number;
  /** The loud windows' level, dBFS: the voices (90th percentile of the 100 ms RMS levels). */
  speechDb: number;
  channels: number;
  /** Time of the stream's first sample, seconds (the denoiser's latency is taken off back to it). */
  startS: number;
}

/** Rate the measurement and the treated audio run at (loudnorm works at 192 kHz inside and is resampled back). */
export const AUDIO_RATE = 48000;
const WINDOW_SAMPLES = AUDIO_RATE / 10;
/** Digital silence has no level; a pause of it counts as this. */
const SILENCE_DB = -120;

/**
 * ffmpeg arguments of one measurement pass over source stream `stream`: `chain` (when given) first, then astats'
 * RMS per 100 ms window printed on stdout, then loudnorm's first pass (its JSON on stderr). Decoding only, no output.
 * `durationS`: only the recording's first seconds (what a `--max-frames` trial encodes).
 */
export function levelsArgs(path: string, stream: number, chain?: string, durationS?: number): string[] {
  const filters = [
    `aresample=${AUDIO_RATE}`,
    ...(chain ? [chain] : []),
    `asetnsamples=n=${WINDOW_SAMPLES}:p=0`,
    'astats=metadata=1:reset=1:measure_perchannel=none:measure_overall=RMS_level',
    'ametadata=mode=print:key=lavfi.astats.Overall.RMS_level:file=-',
    'loudnorm=print_format=json',
  ];
  return [
    ...['-nostdin', '-hide_banner', '-nostats', '-loglevel', 'info'],
    ...(durationS !== undefined ? ['-t', durationS.toFixed(6)] : []),
    ...['-i', path, '-map', `0:${stream}`, '-vn', '-sn', '-dn'],
    ...['-af', filters.join(','), '-f', 'null', '-'],
  ];
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))))];

const num = (v: unknown): number => {
  const n = Number(v);
  if (v === '-inf') return SILENCE_DB;
  return Number.isFinite(n) ? n : Number.NaN;
};

/** Reads a measurement pass's output; undefined when it holds no loudnorm summary or no window. */
export function parseLevels(stdout: string, stderr: string): AudioLevels | undefined {
  const levels = [...stdout.matchAll(/RMS_level=(-?[\d.]+|-?inf|nan)/g)]
    .map((m) => (m[1] === 'nan' ? Number.NaN : num(m[1])))
    .filter((x) => !Number.isNaN(x))
    .map((x) => Math.max(SILENCE_DB, x))
    .sort((a, b) => a - b);
  const start = stderr.lastIndexOf('"input_i"');
  const open = stderr.lastIndexOf('{', start);
  const close = stderr.indexOf('}', start);
  if (levels.length === 0 || start < 0 || open < 0 || close < 0) return undefined;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(stderr.slice(open, close + 1)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const layout = /Audio: [^\n]*?, \d+ Hz, ([^,\n]+)/.exec(stderr)?.[1] ?? '';
  const channels = layout === 'mono' ? 1 : layout === 'stereo' ? 2 : Number(/^(\d+) channels/.exec(layout)?.[1] ?? 0);
  const out: AudioLevels = {
    integratedLufs: num(json.input_i),
    truePeakDb: num(json.input_tp),
    lraLu: num(json.input_lra),
    thresholdLufs: num(json.input_thresh),
    noiseFloorDb: percentile(levels, 0.05),
    speechDb: percentile(levels, 0.9),
    channels: channels || 2,
    startS: Number(/pts_time:(-?[\d.]+)/.exec(stdout)?.[1] ?? 0),
  };
  return Object.values(out).every(Number.isFinite) ? out : undefined;
}

/** One measurement pass (levelsArgs) run to its end. */
export async function measureLevels(
  ffmpeg: string,
  path: string,
  stream: number,
  chain?: string,
  durationS?: number,
): Promise<AudioLevels> {
  const r = await runTool(ffmpeg, levelsArgs(path, stream, chain, durationS));
  const levels = r.code === 0 ? parseLevels(r.stdout.toString('utf8'), r.stderr) : undefined;
  if (levels) return levels;
  throw new EngineError(
    ExitCode.failure,
    'audio-measure-failed',
    `measuring the audio of ${path} (stream #${stream}) failed (${r.error ? String(r.error) : (r.signal ?? r.code)}): ${stderrTail(r.stderr) || 'no loudness summary'}`,
    'run the job with --audio copy to keep the sound as it is',
  );
}
