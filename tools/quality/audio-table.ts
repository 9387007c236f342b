/**
 * The audio table of `npm run quality`: each recording as it is (`input`) and through `--audio clean` / `stage`,
 * treated by the engine's own code (audio/audio-treatment.ts measures and sets the chain; the join's stream args
 * from ffmpeg/stream-map.ts encode it), measured with ffmpeg's ebur128 (loudness, true peak) and 100 ms RMS windows
 * (the pauses' level under the voices); on mixes where the clean speech is known, also the speech-band SNR and the
 * envelope correlation against it.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { LOUDNESS_TARGET } from '../../src/engine/audio/audio-chain';
import { AUDIO_RATE } from '../../src/engine/audio/audio-levels';
import { type AudioTreatment, planAudioTreatment, type TreatedMode } from '../../src/engine/audio/audio-treatment';
import { planStreams } from '../../src/engine/ffmpeg/stream-map';
import {
  decodeMono,
  ebur128,
  envelopeCorrelation,
  lagOf,
  METRIC_RATE,
  SPEECH_BAND,
  snrDb,
  windowLevels,
} from './audio-metrics';
import { cacheDir } from './clips';
import { realSpeech, realSpeechMix, speechMix } from './speech-mix';

interface AudioClip {
  name: string;
  description: string;
  path: string;
  /** The clean speech as it reaches the microphone, when known. */
  mic?: string;
}

export interface AudioRow {
  clip: string;
  mode: 'input' | TreatedMode;
  integratedLufs: number;
  truePeakDb: number;
  /** Speech level minus the pauses' level, dB (power means over the windows). */
  speechOverPauseDb: number;
  snrDb?: number;
  envelope?: number;
  /** How far the output trails the input, ms (0: in sync with the picture). */
  lagMs?: number;
}

function clips(): AudioClip[] {
  const dir = join(cacheDir(), 'audio');
  const made = speechMix(dir);
  const real = realSpeechMix(dir);
  return [
    {
      name: 'made mix',
      description: 'espeak-ng dialogue, room reflections, pink noise + 50 Hz hum (pauses ~7 dB under the voice)',
      path: made.noisy,
      mic: made.mic,
    },
    {
      name: 'real + room',
      description: 'a real voice (Asterisk demo-instruct, 73 s) with the same reflections and room noise',
      path: real.noisy,
      mic: real.mic,
    },
    { name: 'real', description: 'the real recording as it is (studio, 16 kHz G.722)', path: realSpeech(dir) },
  ];
}

const powerMean = (v: number[]) => 10 * Math.log10(v.reduce((s, x) => s + 10 ** (x / 10), 0) / v.length);

/**
 * Speech over pauses: with the clean speech known, pauses are the windows where it is silent (< -60 dB) and speech
 * the others; else the quietest 5 % and the loudest 10 % of windows.
 */
function speechOverPause(path: string, mic?: Float32Array): number {
  const lv = windowLevels(decodeMono(path));
  if (mic) {
    const quiet = windowLevels(mic).map((x) => x < -60);
    return powerMean(lv.filter((_, i) => !quiet[i])) - powerMean(lv.filter((_, i) => quiet[i]));
  }
  const sorted = [...lv].sort((a, b) => a - b);
  const n = sorted.length;
  return powerMean(sorted.slice(Math.floor(n * 0.9))) - powerMean(sorted.slice(0, Math.ceil(n * 0.05)));
}

/** The recording through the engine's treatment, encoded as the join encodes it. */
async function treat(clip: AudioClip, mode: TreatedMode): Promise<string> {
  const info = { path: clip.path, audio: [{ index: 0, codec: 'pcm_f32le' }] };
  const plan = await planAudioTreatment('ffmpeg', info, mode);
  if ('skipped' in plan) throw new Error(`quality: ${plan.skipped}`);
  const t: AudioTreatment = plan.treatment;
  const out = join(cacheDir(), 'audio', `${clip.name.replaceAll(' ', '-')}-${mode}.mp4`);
  const streams = planStreams({ ...info, subtitles: [] }, out, { stream: 0, filter: t.filter, rate: AUDIO_RATE });
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'anullsrc', '-i', clip.path],
    ...streams.args,
    out,
  ]);
  return out;
}

function measure(clip: AudioClip, mode: AudioRow['mode'], path: string): AudioRow {
  const loud = ebur128(path);
  const mic = clip.mic ? decodeMono(clip.mic) : undefined;
  const row: AudioRow = {
    clip: clip.name,
    mode,
    ...loud,
    speechOverPauseDb: speechOverPause(path, mic),
  };
  if (clip.mic) {
    const ref = decodeMono(clip.mic, SPEECH_BAND);
    const y = decodeMono(path, SPEECH_BAND);
    row.snrDb = snrDb(ref, y);
    row.envelope = envelopeCorrelation(ref, y);
    row.lagMs = (lagOf(ref, y) / METRIC_RATE) * 1000;
  }
  return row;
}

export async function audioRows(): Promise<{ rows: AudioRow[]; notes: string[] }> {
  const rows: AudioRow[] = [];
  const notes: string[] = [];
  for (const clip of clips()) {
    notes.push(`audio ${clip.name}: ${clip.description}`);
    rows.push(measure(clip, 'input', clip.path));
    for (const mode of ['clean', 'stage'] as const) rows.push(measure(clip, mode, await treat(clip, mode)));
  }
  return { rows, notes };
}

const fmt = (x: number | undefined, d: number) => (x === undefined ? '' : Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** Markdown table with the deltas against each clip's input row and the bounds checked. */
export function audioTable(rows: AudioRow[]): string[] {
  const head = [
    'clip',
    'mode',
    'I LUFS',
    'TP dBTP',
    'speech/pause dB',
    'Δ',
    'SNR dB',
    'ΔSNR',
    'envelope r',
    'lag ms',
    'bounds',
  ];
  const lines = [head];
  for (const r of rows) {
    const base = rows.find((b) => b.clip === r.clip && b.mode === 'input');
    const gain = base ? r.speechOverPauseDb - base.speechOverPauseDb : 0;
    const dSnr = base?.snrDb !== undefined && r.snrDb !== undefined ? r.snrDb - base.snrDb : undefined;
    const checks =
      r.mode === 'input'
        ? []
        : [
            Math.abs(r.integratedLufs - LOUDNESS_TARGET.integratedLufs) <= 1 ? 'I ok' : 'I MISS',
            r.truePeakDb <= -1 ? 'TP ok' : 'TP MISS',
            gain >= 10 ? 'floor ok' : 'floor MISS',
            ...(dSnr === undefined ? [] : [dSnr >= 6 ? 'SNR ok' : 'SNR MISS']),
            ...(r.envelope === undefined ? [] : [r.envelope >= 0.9 ? 'env ok' : 'env MISS']),
          ];
    lines.push([
      r.clip,
      r.mode,
      fmt(r.integratedLufs, 1),
      fmt(r.truePeakDb, 1),
      fmt(r.speechOverPauseDb, 1),
      r.mode === 'input' ? '' : fmt(gain, 1),
      fmt(r.snrDb, 1),
      r.mode === 'input' ? '' : fmt(dSnr, 1),
      fmt(r.envelope, 3),
      fmt(r.lagMs, 1),
      checks.join(' '),
    ]);
  }
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  const row = (l: string[]) => `| ${l.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [row(lines[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.slice(1).map(row)];
}
