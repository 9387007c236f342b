import type { AudioMode, DARK_REGION_MODES } from '../../protocol/cli-options';
import { formatBytes, formatDuration } from '../../protocol/format';
import type { OutputContainer } from '../../protocol/output-name';
import type { EnhanceSettings } from '../settings';

/** What "Enhance to 4K As…" asks, remembered per workspace. */
export interface EnhanceChoices {
  model: string;
  size: OutputSize;
  quality: QualityPreset;
  container: Container;
  /** `--audio`; absent in choices remembered before the step existed (the setting applies then). */
  audio?: AudioMode;
  /** `--dark-regions`; absent in choices remembered before the step existed (the setting applies then). */
  darkRegions?: DarkRegionMode;
}

export type DarkRegionMode = (typeof DARK_REGION_MODES)[number];

export type OutputSize = '3840x2160' | '2560x1440' | '1920x1080' | 'x2';
export type QualityPreset = 'best' | 'balanced' | 'fast';
/** What the engine's encoder and segment join can write (src/engine/stream-map.ts `containerOf`). */
export type Container = OutputContainer;

export const SIZES: { id: OutputSize; label: string; detail: string }[] = [
  { id: '3840x2160', label: '4K (3840×2160)', detail: 'Fitted inside 3840×2160, aspect kept' },
  { id: '2560x1440', label: '1440p (2560×1440)', detail: 'Fitted inside 2560×1440: smaller files, quicker to encode' },
  { id: '1920x1080', label: '1080p (1920×1080)', detail: 'Fitted inside 1920×1080: for small sources and phones' },
  { id: 'x2', label: '×2', detail: 'Twice the source width and height, whatever they are' },
];

export const QUALITIES: { id: QualityPreset; label: string; detail: string; crf: number; preset: string }[] = [
  {
    id: 'best',
    label: 'Best quality',
    detail: 'CRF 16, slow encoder preset: largest files, slowest',
    crf: 16,
    preset: 'slow',
  },
  {
    id: 'balanced',
    label: 'Balanced',
    detail: 'CRF 18, the engine’s encoder preset (the default)',
    crf: 18,
    preset: 'auto',
  },
  {
    id: 'fast',
    label: 'Fast and small',
    detail: 'CRF 23, veryfast: about half the size, some fine texture lost',
    crf: 23,
    preset: 'veryfast',
  },
];

export const CONTAINERS: { id: Container; label: string; detail: string }[] = [
  { id: 'mp4', label: 'MP4', detail: 'Plays everywhere' },
  { id: 'mkv', label: 'MKV', detail: 'Keeps every audio and subtitle track as it is' },
  { id: 'mov', label: 'MOV', detail: 'QuickTime, for Apple editors' },
];

export const AUDIOS: { id: AudioMode; label: string; detail: string }[] = [
  { id: 'copy', label: 'Sound as it is', detail: 'The source’s audio copied untouched' },
  {
    id: 'clean',
    label: 'Clean the sound',
    detail: 'Noise reduced, loudness evened to −16 LUFS, set from the recording’s own measurement',
  },
  {
    id: 'stage',
    label: 'Stage: clean, dialogue forward',
    detail: 'Clean, and far-miked speech brought forward: for recorded plays and lectures',
  },
];

export const DARK_REGIONS: { id: DarkRegionMode; label: string; detail: string }[] = [
  { id: 'off', label: 'Model everywhere', detail: 'The AI model’s output in every part of the picture' },
  {
    id: 'soften',
    label: 'Soften dark regions',
    detail: 'No AI texture painted into dark noisy areas and clipped highlights (a stage, a night scene)',
  },
];

/** The settings with the choices applied: the rest (provider, temporal, checkpoints…) stays as configured. */
export function applyChoices(s: EnhanceSettings, c: EnhanceChoices): EnhanceSettings {
  const q = QUALITIES.find((x) => x.id === c.quality) ?? QUALITIES[1];
  return {
    ...s,
    model: c.model,
    modelPath: '',
    ...(c.size === 'x2' ? { scale: 2 } : { scale: 0, target: c.size }),
    crf: q.crf,
    preset: q.preset,
    ...(c.audio ? { audio: c.audio } : {}),
    ...(c.darkRegions ? { darkRegions: c.darkRegions } : {}),
  };
}

export { outputFor } from '../../protocol/output-name';

export interface TrialResult {
  /** Frames the trial wrote. */
  frames: number;
  /** Engine time from its start event to its done event, seconds. */
  seconds: number;
  /** Size of the trial's output file. */
  bytes: number;
  /**
   * Seconds a frame takes here once warm, from this machine's finished runs of the same model (frame-rates.ts).
   * Without it the trial is scaled by the frame count.
   */
  steadyFrameS?: number;
}

/**
 * Time and size of the whole video from a short trial on this machine. Size: scaled by the frame count. Time, where
 * this machine has finished runs of the model (`steadyFrameS`): the trial's own time (the fixed costs once: pipeline
 * start, the first frames' warm-up, the encoder's flush, the join) plus the frames left at that steady time; else the
 * trial scaled by the frame count. (The trial's own frames after its first are no steady time: still warming up,
 * timing by them spread about as widely as the scaling, docs/dev/extension.md.)
 */
export function estimateFromTrial(trial: TrialResult, totalFrames: number): { seconds: number; bytes: number } {
  const k = totalFrames / Math.max(1, trial.frames);
  const bytes = trial.bytes * k;
  if (trial.steadyFrameS === undefined || totalFrames <= trial.frames) return { seconds: trial.seconds * k, bytes };
  return { seconds: trial.seconds + trial.steadyFrameS * (totalFrames - trial.frames), bytes };
}

/**
 * How far whole runs were from the estimate, as actual ÷ estimate (min, max), measured with
 * `tools/bench/estimate/run.ts` on three short real clips (docs/dev/extension.md) and, for `trial` time and size,
 * in issue 29's two runs of a long video (1.21–1.34 and 0.71–0.77). Time, by how it was timed: `runs`
 * (this machine's earlier runs: the content's own tile reuse and the machine's load move it) and `trial` (the trial
 * scaled: its fixed costs and warm-up counted once per TRIAL_FRAMES frames, so far too long). Size: the trial's first
 * frame is a keyframe, so the estimate is consistently high. Each is corrected by the middle of its spread.
 */
export const ESTIMATE_SPREAD = {
  seconds: { runs: [0.45, 2.27], trial: [0.09, 1.34] },
  bytes: [0.52, 0.77],
} as const;

/** What an estimate's time came from: this machine's earlier runs of the model, or the trial alone. */
export type TimedBy = keyof typeof ESTIMATE_SPREAD.seconds;

/** The estimate as the Start step says it, with the measured error beside each figure. */
export function estimateText(
  e: { seconds: number; bytes: number },
  frames: number,
  trialFrames: number,
  timedBy: TimedBy,
): string {
  const [tLo, tHi] = ESTIMATE_SPREAD.seconds[timedBy];
  const [bLo, bHi] = ESTIMATE_SPREAD.bytes;
  const tMid = (tLo + tHi) / 2;
  const bytes = (e.bytes * (bLo + bHi)) / 2;
  const error = Math.round(((bHi - bLo) / (bHi + bLo)) * 100);
  const from =
    timedBy === 'runs'
      ? `a ${trialFrames}-frame trial and this machine's last runs`
      : `a ${trialFrames}-frame trial on this machine`;
  return (
    `about ${formatDuration(e.seconds * tMid)} (measured runs took ${(tLo / tMid).toFixed(1)}–${(tHi / tMid).toFixed(1)}× this) and ` +
    `${formatBytes(bytes)} (±${error} %) for ${frames} frames (from ${from})`
  );
}

/** The tag beside the preselected answer of a step: "last used" only when there was a last time, else "default". */
export function choiceTag(id: string, current: string, remembered: boolean): string | undefined {
  if (id !== current) return undefined;
  return remembered ? 'last used' : 'default';
}

/** The log line of an estimate trial: what ran, what it measured, and what was estimated from it. */
export function trialLogLine(input: string, args: readonly string[], trial: TrialResult, totalFrames: number): string {
  const e = estimateFromTrial(trial, totalFrames);
  const timed =
    trial.steadyFrameS !== undefined
      ? ` (this machine's runs: ${trial.steadyFrameS.toFixed(3)} s a frame once warm)`
      : ' (the trial scaled)';
  return (
    `estimate trial of ${input}: ${trial.frames} frames in ${trial.seconds.toFixed(2)} s, ${trial.bytes} bytes → ` +
    `${totalFrames} frames ≈ ${e.seconds.toFixed(0)} s${timed}, ${Math.round(e.bytes)} bytes; engine ${args.join(' ')}`
  );
}
