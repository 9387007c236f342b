/**
 * Audio measures for the quality table: loudness and true peak from ffmpeg's own meter (ebur128), 100 ms window
 * levels from astats, and, where the clean speech is known (the made mix), the speech-band SNR and the envelope
 * correlation against it, computed here on the decoded samples.
 */
import { execFileSync, spawnSync } from 'node:child_process';

/** Telephone speech band: what carries intelligibility, and where hum and rumble do not reach. */
export const SPEECH_BAND = 'highpass=f=300:poles=2,lowpass=f=3400:poles=2';
/** Analysis rate of the sample-level measures. */
export const METRIC_RATE = 16000;

function ffmpeg(args: string[]): { stdout: Buffer; stderr: string } {
  const stdout = execFileSync('ffmpeg', ['-nostdin', '-hide_banner', '-nostats', ...args], {
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { stdout, stderr: '' };
}

/** The first audio stream of `path` as mono float samples at METRIC_RATE, through `filter` when given. */
export function decodeMono(path: string, filter?: string): Float32Array {
  const af = [filter, `aresample=${METRIC_RATE}`].filter(Boolean).join(',');
  const { stdout } = ffmpeg(['-v', 'error', '-i', path, '-map', '0:a:0', '-af', af, '-ac', '1', '-f', 'f32le', '-']);
  return new Float32Array(stdout.buffer, stdout.byteOffset, Math.floor(stdout.length / 4)).slice();
}

export interface Loudness {
  integratedLufs: number;
  truePeakDb: number;
}

/** Integrated loudness and true peak from ffmpeg's ebur128 meter (its summary, printed at the end). */
export function ebur128(path: string): Loudness {
  const r = spawnSync(
    'ffmpeg',
    [
      '-nostdin',
      '-hide_banner',
      '-nostats',
      '-i',
      path,
      '-map',
      '0:a:0',
      '-af',
      'ebur128=peak=true',
      '-f',
      'null',
      '-',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  const summary = r.stderr.slice(r.stderr.lastIndexOf('Summary:'));
  const i = /I:\s+(-?[\d.]+) LUFS/.exec(summary);
  const tp = /Peak:\s+(-?[\d.]+|-inf) dBFS/.exec(summary);
  if (r.status !== 0 || !i || !tp)
    throw new Error(`quality: ebur128 could not measure ${path}: ${r.stderr.slice(-400)}`);
  return { integratedLufs: Number(i[1]), truePeakDb: tp[1] === '-inf' ? Number.NEGATIVE_INFINITY : Number(tp[1]) };
}

/** RMS level (dB) of each 100 ms window of `x`. */
export function windowLevels(x: Float32Array, rate = METRIC_RATE, windowS = 0.1): number[] {
  const n = Math.round(rate * windowS);
  const out: number[] = [];
  for (let o = 0; o + n <= x.length; o += n) {
    let s = 0;
    for (let i = o; i < o + n; i++) s += x[i] * x[i];
    out.push(10 * Math.log10(s / n + 1e-20));
  }
  return out;
}

/** Lag (samples) by which `y` trails `ref`, searched over ±maxLag: coarse on 1 ms energy, then sample-exact. */
export function lagOf(ref: Float32Array, y: Float32Array, maxLag = METRIC_RATE / 10): number {
  const corr = (lag: number, step: number) => {
    let s = 0;
    for (let i = Math.max(0, -lag); i < ref.length && i + lag < y.length; i += step) s += ref[i] * y[i + lag];
    return s;
  };
  let best = 0;
  let bestC = Number.NEGATIVE_INFINITY;
  for (let lag = -maxLag; lag <= maxLag; lag += 8) {
    const c = corr(lag, 4);
    if (c > bestC) [best, bestC] = [lag, c];
  }
  const coarse = best;
  for (let lag = coarse - 8; lag <= coarse + 8; lag++) {
    const c = corr(lag, 1);
    if (c > bestC || lag === coarse - 8) [best, bestC] = [lag, c];
  }
  return best;
}

const shifted = (y: Float32Array, lag: number, length: number): Float32Array => {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const j = i + lag;
    out[i] = j >= 0 && j < y.length ? y[j] : 0;
  }
  return out;
};

const FFT_SIZE = 512;
const HOP = 256;

/** In-place radix-2 FFT of (re, im), length a power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b] * wr - im[b] * wi;
        const ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}

/** Complex spectra (Hann window, 32 ms frames, 16 ms hop) of `x`, bins from `lo` to `hi` Hz only: [re, im] per frame. */
function spectra(x: Float32Array, lo: number, hi: number, rate: number): Array<[Float64Array, Float64Array]> {
  const first = Math.ceil((lo * FFT_SIZE) / rate);
  const last = Math.floor((hi * FFT_SIZE) / rate);
  const out: Array<[Float64Array, Float64Array]> = [];
  const re = new Float64Array(FFT_SIZE);
  const im = new Float64Array(FFT_SIZE);
  for (let o = 0; o + FFT_SIZE <= x.length; o += HOP) {
    for (let i = 0; i < FFT_SIZE; i++) {
      re[i] = x[o + i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / FFT_SIZE));
      im[i] = 0;
    }
    fft(re, im);
    out.push([re.slice(first, last + 1), im.slice(first, last + 1)]);
  }
  return out;
}

type Spectra = Array<[Float64Array, Float64Array]>;

/**
 * The fixed linear filter (one complex gain per bin) that best puts the clean `s` onto `y`, by least squares over
 * the whole recording: Y = H·S + E, the noise E uncorrelated with S, so H is not biased by it.
 */
function transfer(s: Spectra, y: Spectra): [Float64Array, Float64Array] {
  const bins = s[0]?.[0].length ?? 0;
  const hr = new Float64Array(bins);
  const hi = new Float64Array(bins);
  for (let k = 0; k < bins; k++) {
    let nr = 0;
    let ni = 0;
    let d = 0;
    for (let f = 0; f < s.length; f++) {
      const [sr, si] = [s[f][0][k], s[f][1][k]];
      const [yr, yi] = [y[f][0][k], y[f][1][k]];
      nr += yr * sr + yi * si;
      ni += yi * sr - yr * si;
      d += sr * sr + si * si;
    }
    hr[k] = d > 0 ? nr / d : 0;
    hi[k] = d > 0 ? ni / d : 0;
  }
  return [hr, hi];
}

/**
 * Speech-band SNR of `y` against the clean `ref`, dB (300-3400 Hz): the signal-to-distortion ratio of BSS Eval
 * (Vincent et al. 2006) on short-time spectra. `y` is aligned to `ref` by the best lag; what a fixed linear filter
 * of the clean speech explains (a high-pass, an equalizer, their phase: one complex gain per bin, fitted over the
 * whole recording) and a gain that rides with the lines (a real gain per `blockS` block where the speech is, as
 * loudness control and speechnorm apply; the envelope correlation judges it) is the speech; everything else is noise:
 * the noise left, and the speech the denoiser took away or bent. In blocks where the clean speech is silent
 * (50 dB under its loudest block) the last speech block's gain holds, so the noise left in the pauses counts in full.
 * Complex, not magnitude, spectra: a magnitude difference counts only about half of a noise's power where the speech
 * is louder than it, and so read the noisy input about 3 dB better than it is.
 */
export function snrDb(ref: Float32Array, y: Float32Array, blockS = 0.2, rate = METRIC_RATE): number {
  const s = spectra(ref, 300, 3400, rate);
  const a = spectra(shifted(y, lagOf(ref, y), ref.length), 300, 3400, rate);
  const [hr, hi] = transfer(s, a);
  // The clean speech through the fitted filter: what the output would be with no noise and no gain riding.
  const t: Spectra = s.map(([sr, si]) => [
    sr.map((x, k) => x * hr[k] - si[k] * hi[k]),
    sr.map((x, k) => x * hi[k] + si[k] * hr[k]),
  ]);
  const per = Math.max(1, Math.round((blockS * rate) / HOP));
  const blocks: Array<{ f0: number; end: number; g: number; energy: number }> = [];
  for (let f0 = 0; f0 < s.length; f0 += per) {
    const end = Math.min(s.length, f0 + per);
    let tt = 0;
    let ta = 0;
    for (let f = f0; f < end; f++)
      for (let k = 0; k < t[f][0].length; k++) {
        tt += t[f][0][k] ** 2 + t[f][1][k] ** 2;
        ta += t[f][0][k] * a[f][0][k] + t[f][1][k] * a[f][1][k];
      }
    blocks.push({ f0, end, g: tt > 0 ? ta / tt : 0, energy: tt });
  }
  const loudest = Math.max(...blocks.map((b) => b.energy));
  const active = (b: { energy: number }) => b.energy > loudest * 1e-5;
  let g = blocks.find(active)?.g ?? 1;
  // Each bin's error is put back through the inverse of the fitted filter (divided by |H|²) and the signal is the
  // clean speech's own: an equalizer then neither gains nor loses (turning down a band where the noise is, with the
  // speech in it, is not noise reduction).
  const h2 = hr.map((x, k) => x * x + hi[k] * hi[k]);
  const h2Floor = 1e-3 * Math.max(...h2);
  let sig = 0;
  let err = 0;
  for (const b of blocks) {
    if (active(b)) g = b.g;
    for (let f = b.f0; f < b.end; f++) {
      for (let k = 0; k < t[f][0].length; k++) {
        const [tr, ti] = [g * t[f][0][k], g * t[f][1][k]];
        sig += g * g * (s[f][0][k] ** 2 + s[f][1][k] ** 2);
        err += ((a[f][0][k] - tr) ** 2 + (a[f][1][k] - ti) ** 2) / Math.max(h2[k], h2Floor);
      }
    }
  }
  return 10 * Math.log10(sig / err);
}

/** Pearson correlation of the 10 ms RMS envelopes of `ref` and `y` (aligned by the best lag). */
export function envelopeCorrelation(ref: Float32Array, y: Float32Array, rate = METRIC_RATE): number {
  const a = shifted(y, lagOf(ref, y), ref.length);
  const env = (x: Float32Array) => windowLevels(x, rate, 0.01).map((db) => 10 ** (db / 20));
  const p = env(ref);
  const q = env(a);
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const mp = mean(p);
  const mq = mean(q);
  let spq = 0;
  let spp = 0;
  let sqq = 0;
  for (let i = 0; i < p.length; i++) {
    spq += (p[i] - mp) * (q[i] - mq);
    spp += (p[i] - mp) ** 2;
    sqq += (q[i] - mq) ** 2;
  }
  return spq / Math.sqrt(spp * sqq);
}
