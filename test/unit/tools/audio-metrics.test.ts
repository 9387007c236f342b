import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { decodeMono, METRIC_RATE, SPEECH_BAND, snrDb } from '../../../tools/quality/audio-metrics';
import { speechMix } from '../../../tools/quality/speech-mix';

const CACHE = join(process.env.HUAJU4K_CACHE ?? '/tmp', 'test-media');

/** ffmpeg's white noise (anoisesrc, fixed seed) in the speech band, `n` samples at METRIC_RATE. */
function bandNoise(n: number): Float32Array {
  const out = execFileSync('ffmpeg', [
    ...['-v', 'error', '-nostdin', '-f', 'lavfi', '-i', `anoisesrc=color=white:seed=11:sample_rate=${METRIC_RATE}`],
    ...['-af', `${SPEECH_BAND},atrim=end_sample=${n}`, '-f', 'f32le', '-'],
  ]);
  return new Float32Array(out.buffer, out.byteOffset, Math.floor(out.length / 4)).slice(0, n);
}

const power = (x: Float32Array) => x.reduce((s, v) => s + v * v, 0) / x.length;

describe('quality meter: the speech-band SNR against the clean speech', function () {
  this.timeout(120_000);
  let clean: Float32Array;
  let noise: Float32Array;
  before(() => {
    const mix = speechMix(join(CACHE, 'speech-mix'), 'Two friends talk about the old house by the river.');
    clean = decodeMono(mix.mic, SPEECH_BAND);
    noise = bandNoise(clean.length);
  });

  it('reads the SNR of the clean speech plus noise at a known level within 1 dB (a magnitude meter read 3-4 dB more)', () => {
    for (const target of [0, 10, 20]) {
      const k = Math.sqrt(power(clean) / power(noise) / 10 ** (target / 10));
      const snr = snrDb(
        clean,
        clean.map((x, i) => x + k * noise[i]),
      );
      assert.ok(Math.abs(snr - target) <= 1, `noise at ${target} dB read as ${snr.toFixed(2)} dB`);
    }
  });

  it('an equalizer neither gains nor loses: turning down the band the noise is in, speech with it, is no noise reduction', () => {
    const k = Math.sqrt(power(clean) / power(noise) / 10);
    const noisy = clean.map((x, i) => x + k * noise[i]);
    const eq = (x: Float32Array) => {
      const out = execFileSync(
        'ffmpeg',
        [
          ...['-v', 'error', '-nostdin', '-f', 'f32le', '-ar', String(METRIC_RATE), '-ac', '1', '-i', '-'],
          ...['-af', 'equalizer=f=500:t=q:w=1:g=-10', '-f', 'f32le', '-'],
        ],
        { input: Buffer.from(x.buffer, x.byteOffset, x.byteLength), maxBuffer: 1 << 28 },
      );
      return new Float32Array(out.buffer, out.byteOffset, Math.floor(out.length / 4));
    };
    const plain = snrDb(clean, noisy);
    const cut = snrDb(clean, eq(noisy));
    assert.ok(Math.abs(cut - plain) <= 0.5, `equalized ${cut.toFixed(2)} dB against ${plain.toFixed(2)} dB`);
  });
});
