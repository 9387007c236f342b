import type { AudioMode } from '../../protocol/cli-options';
import type { MediaInfo } from '../ffmpeg/probe';
import { denoiseChain, loudnormFilter, peakLimiter } from './audio-chain';
import { AUDIO_RATE, type AudioLevels, measureLevels } from './audio-levels';

export type TreatedMode = Exclude<AudioMode, 'copy'>;

/**
 * How a job treats its dialogue: measured once per job and kept in the checkpoint (manifest.audio), so a resumed
 * job, or a join redone, filters the audio with exactly the same numbers.
 */
export interface AudioTreatment {
  mode: TreatedMode;
  /** The source stream treated (the first audio stream; others are carried over as they are). */
  stream: number;
  /** The recording as it is. */
  before: AudioLevels;
  /** The denoise chain's output, measured: loudnorm's second pass takes these. */
  measured: AudioLevels;
  /** The whole filter as the join runs it: the measurement passes' resample, the chain, loudnorm. */
  filter: string;
}

/** Below this the stream is silence (loudnorm cannot gate it): nothing to treat. */
const SILENT_LUFS = -70;

export type AudioPlan = { treatment: AudioTreatment } | { skipped: string };

/**
 * Two or three decoding passes over the first audio stream: the recording's levels, then the chain set from them,
 * measured (and, when its peaks need a limiter, measured again with it) for loudnorm's second pass. Skipped (with the reason) when there is no audio or it is silent. `durationS`: only the
 * first seconds are measured (a `--max-frames` trial encodes no more; the whole recording otherwise).
 */
export async function planAudioTreatment(
  ffmpeg: string,
  info: Pick<MediaInfo, 'path' | 'audio'>,
  mode: TreatedMode,
  durationS?: number,
): Promise<AudioPlan> {
  const stream = info.audio[0]?.index;
  if (stream === undefined) return { skipped: `--audio ${mode}: ${info.path} has no audio stream` };
  const before = await measureLevels(ffmpeg, info.path, stream, undefined, durationS);
  if (before.integratedLufs < SILENT_LUFS) {
    return { skipped: `--audio ${mode}: the audio of ${info.path} is silent; it is copied as it is` };
  }
  const denoised = denoiseChain(mode, before);
  const plain = await measureLevels(ffmpeg, info.path, stream, denoised, durationS);
  // A limiter set from the denoised sound's own peaks when they would keep loudnorm from a plain gain, and then a
  // third pass: loudnorm's second pass needs the levels of exactly what it is given.
  const limiter = peakLimiter(plain);
  const chain = limiter ? `${denoised},${limiter}` : denoised;
  const measured = limiter ? await measureLevels(ffmpeg, info.path, stream, chain, durationS) : plain;
  return {
    treatment: {
      mode,
      stream,
      before,
      measured,
      filter: `aresample=${AUDIO_RATE},${chain},${loudnormFilter(measured)}`,
    },
  };
}
