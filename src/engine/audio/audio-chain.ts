import type { AudioMode } from '../../protocol/cli-options';
import { AUDIO_RATE, type AudioLevels } from './audio-levels';

/**
 * The loudness the treated audio is brought to: -16 LUFS integrated (AES's recommendation for speech streamed to
 * phones and laptops), true peak at most -2 dBTP before the AAC encoder (which adds up to ~1 dB of overshoot).
 */
export const LOUDNESS_TARGET = { integratedLufs: -16, truePeakDb: -2, lraLu: 11 } as const;

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const db = (x: number) => x.toFixed(1);
const amplitude = (dbfs: number) => 10 ** (dbfs / 20);

/**
 * afftdn's delay in samples (ffmpeg 5.1 af_afftdn.c: a window of 3 hops of rate/80, output one window less a hop
 * late): 25 ms, taken off again so the sound stays on the picture.
 */
export const AFFTDN_DELAY_SAMPLES = 2 * (AUDIO_RATE / 80);
/**
 * afftdn's noise floor set this far over the pauses' measured RMS level: its `nf` is the level it takes the noise to
 * have, and the pauses' RMS is their quietest 5 %. On the made mix (speech-band SNR against the clean speech,
 * tools/quality/audio-metrics.ts; input 9.6 dB), high-pass + afftdn alone: 13.1 dB at +0 (adaptivity 0.9, as before),
 * 13.5 at +3, 13.6 at +6 (adaptivity 0.5, afftdn's default; 13.0 at 0.9), 12.9 at +9, 11.5 at +12.
 */
const NF_OVER_FLOOR_DB = 6;
const LIMITER_ATTACK_MS = 5;
/** alimiter's lowest `limit` (0.0625). */
const LIMITER_FLOOR_DB = -24;

/** Takes a filter's delay off: the stream moved `samples` earlier and cut back at its first sample's time. */
const undelay = (samples: number, startS: number) => `asetpts=PTS-${samples}/SR/TB,atrim=start=${startS.toFixed(6)}`;

/**
 * A peak limiter when the peaks would keep loudnorm from a plain gain (linear mode needs the measured true peak
 * plus the gain under the target peak), set from the denoise chain's own output (`measured`: afftdn takes the
 * noise's share of the loudness away, `stage`'s filters move the peaks): 1 dB under where the gain puts the target
 * peak. Without it loudnorm falls back to its dynamic mode, which rides the gain through every line and misses the
 * target on short clips. Empty when the peaks already fit.
 */
export function peakLimiter(measured: AudioLevels): string {
  const gain = LOUDNESS_TARGET.integratedLufs - measured.integratedLufs;
  const ceiling = LOUDNESS_TARGET.truePeakDb - 1 - gain;
  if (measured.truePeakDb <= ceiling) return '';
  // alimiter takes no limit under -24 dBFS (0.0625): a quiet recording is raised first, by what its ceiling lacks,
  // and limited there; loudnorm then needs that much less gain.
  const lift = Math.max(0, LIMITER_FLOOR_DB - ceiling);
  // Its look-ahead (the attack) delays the sound: taken off like afftdn's.
  return [
    ...(lift > 0 ? [`volume=${lift.toFixed(2)}dB`] : []),
    `alimiter=limit=${amplitude(ceiling + lift).toExponential(3)}:level=0:attack=${LIMITER_ATTACK_MS}:release=50:asc=1`,
    undelay((AUDIO_RATE * LIMITER_ATTACK_MS) / 1000, measured.startS),
  ].join(',');
}

/**
 * The treatment before loudness control, set from the recording's own levels:
 * - a high-pass under the voices (rumble, ventilation, the hum's fundamental); higher for `stage`;
 * - afftdn with its noise floor 6 dB over the measured floor of the pauses (clamped to the filter's -80…-20 dB), its
 *   reduction 10 dB past the gap between that floor and the voices (12-30 dB: past 20 the made mix gains nothing),
 *   noise tracking on (a stage's noise changes as lights and fans do), and its 25 ms delay taken off;
 * - a downward expander (agate) whose threshold sits between the measured floor and the voices, so what afftdn
 *   leaves in the pauses drops a further 12 dB and no syllable is cut;
 * - `stage` only: speechnorm lifts quiet, far-miked lines toward the loud ones (its threshold above the noise floor,
 *   so pauses are not lifted), a presence lift at 2.5 kHz, and on stereo dialoguenhance brings the centre (where
 *   the voices are) forward, folded back to stereo.
 * The peak limiter (peakLimiter) follows, set from this chain's measured output.
 */
export function denoiseChain(mode: Exclude<AudioMode, 'copy'>, before: AudioLevels): string {
  const floor = before.noiseFloorDb;
  const gap = Math.max(0, before.speechDb - floor);
  const nf = clamp(Math.round(floor + NF_OVER_FLOOR_DB), -80, -20);
  const nr = clamp(Math.round(gap + 10), 12, 30);
  const threshold = amplitude(floor + clamp(gap / 3, 3, 12));
  const filters = [
    `highpass=f=${mode === 'stage' ? 100 : 80}:poles=2`,
    `afftdn=nf=${nf}:nr=${nr}:tn=1`,
    undelay(AFFTDN_DELAY_SAMPLES, before.startS),
    `agate=threshold=${threshold.toExponential(3)}:range=0.25:ratio=2:attack=10:release=250:knee=4`,
  ];
  if (mode === 'stage') {
    if (before.channels === 2)
      filters.push('dialoguenhance=original=1:enhance=1', 'pan=stereo|FL=FL+0.707*FC|FR=FR+0.707*FC');
    const speechThreshold = clamp(amplitude(floor + 6), 0, 1);
    filters.push(
      `speechnorm=e=4:c=2:t=${speechThreshold.toExponential(3)}:r=0.0005:f=0.001:l=1`,
      'equalizer=f=2500:t=q:w=1.2:g=3',
    );
  }
  return filters.join(',');
}

/**
 * loudnorm's second pass: the chain's output measured once (`measured`), brought to the target linearly if it can.
 * It outputs 192 kHz: the encoder's `-ar` brings it back (an aresample after it fails ffmpeg 5.1's layout
 * negotiation on mono).
 */
export function loudnormFilter(measured: AudioLevels): string {
  const t = LOUDNESS_TARGET;
  return [
    `loudnorm=I=${t.integratedLufs}:TP=${t.truePeakDb}:LRA=${t.lraLu}`,
    `measured_I=${db(measured.integratedLufs)}:measured_TP=${db(measured.truePeakDb)}`,
    `measured_LRA=${db(measured.lraLu)}:measured_thresh=${db(measured.thresholdLufs)}`,
    `offset=0:linear=true:print_format=none`,
  ].join(':');
}

/**
 * Where the noise floor and the voices will sit after loudnorm: the chain's output levels moved by loudnorm's gain
 * (linear mode: target minus measured loudness). Reported with the before levels.
 */
export function levelsAfter(measured: AudioLevels): { integratedLufs: number; noiseFloorDb: number; speechDb: number } {
  const gain = LOUDNESS_TARGET.integratedLufs - measured.integratedLufs;
  return {
    integratedLufs: LOUDNESS_TARGET.integratedLufs,
    noiseFloorDb: measured.noiseFloorDb + gain,
    speechDb: measured.speechDb + gain,
  };
}
