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
  addRoom(speech, out, noiseAmplitude, leadS);
  rmSync(speech, { force: true });
  return out;
}

const ALLISON = 'usr/share/asterisk/sounds/en_US_f_Allison';

/**
 * A real recording of speech: Asterisk's "demo-instruct" prompt (Allison Smith, 73 s, 16 kHz G.722, with its own
 * pauses and room tone) from Debian's asterisk-core-sounds-en-g722, fetched once with `apt-get download` into `dir`
 * (no install) and decoded to 48 kHz mono WAV.
 */
export function realSpeech(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'allison-demo-instruct.wav');
  if (existsSync(out)) return out;
  const src = join(dir, 'deb', ALLISON, 'demo-instruct.g722');
  if (!existsSync(src)) {
    try {
      execFileSync('apt-get', ['download', 'asterisk-core-sounds-en-g722'], { cwd: dir, stdio: 'ignore' });
      const deb = execFileSync('sh', ['-c', 'ls asterisk-core-sounds-en-g722_*.deb'], { cwd: dir }).toString().trim();
      execFileSync('dpkg', ['-x', join(dir, deb), join(dir, 'deb')]);
    } catch (err) {
      throw new Error(
        `quality: could not fetch the real speech recording (${(err as Error).message}); run \`apt-get update\`, then \`apt-get download asterisk-core-sounds-en-g722\` in ${dir}`,
      );
    }
  }
  const tmp = `${out}.${process.pid}.wav`;
  run('ffmpeg', ['-v', 'error', '-nostdin', '-y', '-f', 'g722', '-i', src, '-ar', '48000', '-c:a', 'pcm_f32le', tmp]);
  renameSync(tmp, out);
  return out;
}

/** The real recording made far-miked: the same reflections and room noise as speechMix laid over it. */
export function realSpeechMix(dir: string, noiseAmplitude = 0.08): SpeechMix {
  const clean = realSpeech(dir);
  const out = { mic: join(dir, `allison-mic.wav`), noisy: join(dir, `allison-noisy-${noiseAmplitude}.wav`), leadS: 0 };
  if (existsSync(out.mic) && existsSync(out.noisy)) return out;
  addRoom(clean, out, noiseAmplitude);
  return out;
}

/** Reflections and a level for the microphone (`mic`), then the room noise on top (`noisy`). */
function addRoom(speech: string, out: SpeechMix, noiseAmplitude: number, leadS = 0): void {
  const ff = (args: string[]) => run('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args]);
  const mic = `${out.mic}.${process.pid}.wav`;
  const pad = leadS > 0 ? `adelay=${leadS * 1000},apad=pad_dur=2,` : '';
  ff([
    ...['-i', speech, '-af'],
    `aresample=48000,${pad}aecho=0.8:0.7:37|73|119|173:0.35|0.25|0.15|0.08,volume=-6dB`,
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
  renameSync(mic, out.mic);
  renameSync(noisy, out.noisy);
}
