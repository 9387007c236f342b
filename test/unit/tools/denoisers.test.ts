import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { decodeMono, METRIC_RATE, SPEECH_BAND, snrDb } from '../../../tools/quality/audio-metrics';
import { speechMix } from '../../../tools/quality/speech-mix';
import { knownNoiseWiener, wienerOracle } from '../../../tools/quality/wiener-oracle';

const CACHE = join(process.env.HUAJU4K_CACHE ?? '/tmp', 'test-media');
const LINE = 'Two friends talk about the old house by the river.';

/** ffmpeg's `color` noise (anoisesrc, fixed seed) at `amplitude`, `n` samples at `rate`. */
function noise(color: 'white' | 'pink', n: number, rate: number, amplitude: number): Float32Array {
  const out = execFileSync('ffmpeg', [
    ...['-v', 'error', '-nostdin', '-f', 'lavfi', '-i', `anoisesrc=color=${color}:seed=7:a=${amplitude}:r=${rate}`],
    ...['-af', `atrim=end_sample=${n}`, '-f', 'f32le', '-'],
  ]);
  return new Float32Array(out.buffer, out.byteOffset, Math.floor(out.length / 4)).slice(0, n);
}

const power = (x: Float32Array) => x.reduce((s, v) => s + v * v, 0) / x.length;
const db = (x: number) => 10 * Math.log10(x);

describe('quality denoiser ceilings: the oracle and the known-noise Wiener filters', function () {
  this.timeout(120_000);
  let clean: Float32Array;
  let white: Float32Array;
  /** The clean line plus white noise at the same power (0 dB). */
  let noisy: Float32Array;
  before(() => {
    clean = decodeMono(speechMix(join(CACHE, 'speech-mix'), LINE).mic, SPEECH_BAND);
    const w = noise('white', clean.length, METRIC_RATE, 0.1);
    const k = Math.sqrt(power(clean) / power(w));
    white = w.map((v) => k * v);
    noisy = clean.map((x, i) => x + white[i]);
  });

  it('gives the input back when there is no noise (the overlap-add is normalised)', () => {
    const y = wienerOracle(clean, clean, 512);
    assert.equal(y.length, clean.length);
    const err = power(y.map((v, i) => v - clean[i]));
    assert.ok(db(power(clean) / err) > 60, `reconstruction ${db(power(clean) / err).toFixed(1)} dB under the input`);
  });

  it('the oracle mask raises the speech-band SNR of speech in white noise at 0 dB by more than 5 dB', () => {
    const gain = snrDb(clean, wienerOracle(clean, noisy, 512)) - snrDb(clean, noisy);
    assert.ok(gain > 5, `oracle gain ${gain.toFixed(2)} dB`);
  });

  it('the known-noise filter leaves speech without noise as it is', () => {
    const y = knownNoiseWiener(new Float32Array(clean.length), clean, 1024);
    const err = power(y.map((v, i) => v - clean[i]));
    assert.ok(db(power(clean) / err) > 40, `reconstruction ${db(power(clean) / err).toFixed(1)} dB under the input`);
  });

  it('the known-noise filter gains on that mix, and less than the oracle mask', () => {
    const input = snrDb(clean, noisy);
    const known = snrDb(clean, knownNoiseWiener(white, noisy, 1024)) - input;
    const oracle = snrDb(clean, wienerOracle(clean, noisy, 1024)) - input;
    assert.ok(known > 3, `known-noise gain ${known.toFixed(2)} dB`);
    assert.ok(known < oracle, `known-noise ${known.toFixed(2)} dB, oracle ${oracle.toFixed(2)} dB`);
  });
});
