/**
 * A far-miked line of dialogue where the clean speech is known: espeak-ng speech (Debian's espeak-ng), a pause
 * before and after, a small room's reflections (aecho), then room noise added: pink noise (ventilation, audience)
 * and 50 Hz mains hum with its third harmonic. `mic` is the speech as it reaches the microphone (reflections
 * included), `noisy` is what the camera records; both 48 kHz mono WAV, made once into `dir`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const DIALOGUE =
  'The play begins in a quiet room. Two friends sit at a table and talk about the old house by the river. ' +
  'Nobody has lived there for many years. But last night, someone saw a light in the window.';

export interface SpeechMix {
  mic: string;
  noisy: string;
  /** Seconds of silence before the speech (a pause the measures can use). */
  leadS: number;
}

function run(bin: string, args: string[]): void {
  try {
    execFileSync(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${bin} is not installed: apt-get install ${bin === 'espeak-ng' ? 'espeak-ng' : 'ffmpeg'}`);
    }
    throw err;
  }
}

/** `noiseAmplitude`: the pink noise's amplitude (0.08 puts the pauses about 7 dB under the speech). */
export function speechMix(dir: string, text = DIALOGUE, noiseAmplitude = 0.08): SpeechMix {
  mkdirSync(dir, { recursive: true });
  const tag = `${text.length}-${noiseAmplitude}`;
  const leadS = 1.5;
  const out = { mic: join(dir, `mic-${tag}.wav`), noisy: join(dir, `noisy-${tag}.wav`), leadS };
  if (existsSync(out.mic) && existsSync(out.noisy)) return out;
  const speech = join(dir, `speech-${process.pid}.wav`);
  run('espeak-ng', ['-v', 'en-us', '-s', '150', '-g', '4', '-w', speech, text]);
  const ff = (args: string[]) => run('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args]);
  const mic = `${out.mic}.${process.pid}.wav`;
  ff([
    ...['-i', speech, '-af'],
    `aresample=48000,adelay=${leadS * 1000},apad=pad_dur=2,aecho=0.8:0.7:37|73|119|173:0.35|0.25|0.15|0.08,volume=-6dB`,
    ...['-ac', '1', '-c:a', 'pcm_f32le', mic],
  ]);
  const noisy = `${out.noisy}.${process.pid}.wav`;
  ff([
    ...['-i', mic, '-f', 'lavfi', '-i', `anoisesrc=color=pink:amplitude=${noiseAmplitude}:seed=7:sample_rate=48000`],
    ...[
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=50:sample_rate=48000',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=150:sample_rate=48000',
    ],
    '-filter_complex',
    '[2]volume=0.03[h1];[3]volume=0.01[h3];[0][1][h1][h3]amix=inputs=4:normalize=0:duration=first',
    ...['-c:a', 'pcm_f32le', noisy],
  ]);
  rmSync(speech, { force: true });
  renameSync(mic, out.mic);
  renameSync(noisy, out.noisy);
  return out;
}
