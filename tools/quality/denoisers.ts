/**
 * `npm run quality:denoisers`: the denoise step of `--audio clean` against two ceilings (tools/quality/wiener-oracle.ts):
 * the known-noise Wiener filter (the best a denoiser working from a noise-floor estimate does when the estimate is
 * exact) and the oracle Wiener mask (the ceiling of any mask that sees only the mix), on the quality table's two mixes
 * whose clean speech is known. Each row is the sound before the limiter and loudness control (the quality table
 * measures those), scored with the table's own speech-band SNR and envelope correlation
 * (tools/quality/audio-metrics.ts).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { denoiseChain } from '../../src/engine/audio/audio-chain';
import { AUDIO_RATE, measureLevels } from '../../src/engine/audio/audio-levels';
import { decodeMono, envelopeCorrelation, SPEECH_BAND, snrDb } from './audio-metrics';
import { cacheDir } from './clips';
import { realSpeechMix, speechMix } from './speech-mix';
import { knownNoiseWiener, wienerOracle } from './wiener-oracle';

function decode48k(path: string, filter?: string): Float32Array {
  const af = [`aresample=${AUDIO_RATE}`, ...(filter ? [filter] : [])].join(',');
  const pcm = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-nostdin', '-i', path, '-af', af, '-ac', '1', '-f', 'f32le', '-'],
    {
      maxBuffer: 1 << 30,
    },
  );
  return new Float32Array(pcm.buffer, pcm.byteOffset, pcm.length / 4).slice();
}

function writeWav(path: string, x: Float32Array): string {
  execFileSync(
    'ffmpeg',
    ['-v', 'error', '-nostdin', '-y', '-f', 'f32le', '-ar', String(AUDIO_RATE), '-ac', '1', '-i', '-', path],
    { input: Buffer.from(x.buffer, x.byteOffset, x.byteLength) },
  );
  return path;
}

interface Row {
  clip: string;
  step: string;
  snrDb: number;
  envelope: number;
}

async function clipRows(name: string, mix: { mic: string; noisy: string }): Promise<Row[]> {
  const before = await measureLevels('ffmpeg', mix.noisy, 0);
  const chain = denoiseChain('clean', before);
  const noisy = decode48k(mix.noisy);
  const clean = decode48k(mix.mic);
  const steps: Array<[string, Float32Array]> = [
    ['input', noisy],
    ['the chain: high-pass, afftdn, expander', decode48k(mix.noisy, chain)],
    [
      'known-noise Wiener (85 ms)',
      knownNoiseWiener(
        noisy.map((x, i) => x - clean[i]),
        noisy,
      ),
    ],
    ['oracle Wiener mask (43 ms)', wienerOracle(clean, noisy, 2048)],
    ['oracle Wiener mask (85 ms)', wienerOracle(clean, noisy, 4096)],
  ];
  const ref = decodeMono(mix.mic, SPEECH_BAND);
  const dir = join(cacheDir(), 'audio');
  return steps.map(([step, x], i) => {
    const y = decodeMono(writeWav(join(dir, `denoisers-${name.replaceAll(/\W+/g, '-')}-${i}.wav`), x), SPEECH_BAND);
    return { clip: name, step, snrDb: snrDb(ref, y), envelope: envelopeCorrelation(ref, y) };
  });
}

async function main(): Promise<void> {
  const dir = join(cacheDir(), 'audio');
  const rows = [
    ...(await clipRows('made mix', speechMix(dir))),
    ...(await clipRows('real + room', realSpeechMix(dir))),
  ];
  console.log('| clip | step | SNR dB | ΔSNR | envelope r |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) {
    const input = rows.find((x) => x.clip === r.clip && x.step === 'input')?.snrDb ?? r.snrDb;
    const delta = r.step === 'input' ? '' : (r.snrDb - input).toFixed(1);
    console.log(`| ${r.clip} | ${r.step} | ${r.snrDb.toFixed(1)} | ${delta} | ${r.envelope.toFixed(3)} |`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
