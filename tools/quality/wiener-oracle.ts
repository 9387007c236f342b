/**
 * Two ceilings for the denoise step of `--audio clean|stage` on the made mixes, where the clean speech S and the
 * noise N are both known (the mixes are mic + noise exactly), judged by the quality table's speech-band SNR
 * (tools/quality/denoisers.ts):
 * - the oracle Wiener mask: each short-time spectral bin of the mix scaled by |S|² / (|S|² + |N|²). No denoiser that
 *   sees only the mix does better on average;
 * - the known-noise Wiener filter: the classical statistical denoiser (decision-directed a priori SNR, Ephraim &
 *   Malah 1984; Wiener gain) given the noise's true long-term spectrum, so the best that a denoiser working from a
 *   noise-floor estimate (afftdn, spectral subtraction, MMSE-STSA) can do when its estimate is exact.
 */
import { fft } from './audio-metrics';

const hann = (n: number) => Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));

/** The spectrum of `size` samples of `x` from `o` on (zero outside `x`), Hann-windowed: [re, im]. */
function spectrum(x: Float32Array, o: number, w: Float64Array): [Float64Array, Float64Array] {
  const size = w.length;
  const re = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const t = o + i;
    re[i] = (t >= 0 && t < x.length ? x[t] : 0) * w[i];
  }
  const im = new Float64Array(size);
  fft(re, im);
  return [re, im];
}

/** Frame offsets every size/4 such that every sample of a length-`n` signal is covered by four frames. */
function offsets(n: number, size: number): number[] {
  const out: number[] = [];
  for (let o = -size + size / 4; o < n; o += size / 4) out.push(o);
  return out;
}

/**
 * `x` through a real gain per short-time bin: Hann analysis and synthesis, frames of `size` samples (a power of two)
 * every size/4, the overlap-add divided by the windows' summed square, so gains of 1 give `x` back. `gains(o, re,
 * im)` reads the frame at offset `o` (its spectrum [re, im]) and returns one gain per bin.
 */
export function maskFilter(
  x: Float32Array,
  size: number,
  gains: (o: number, re: Float64Array, im: Float64Array) => Float64Array,
): Float32Array {
  const n = x.length;
  const w = hann(size);
  const out = new Float64Array(n);
  const norm = new Float64Array(n);
  for (const o of offsets(n, size)) {
    const [yr, yi] = spectrum(x, o, w);
    const g = gains(o, yr, yi);
    for (let k = 0; k < size; k++) {
      // Conjugated for the inverse transform (ifft(X) = conj(fft(conj(X))) / size); the result is real.
      yr[k] *= g[k];
      yi[k] *= -g[k];
    }
    fft(yr, yi);
    for (let i = 0; i < size; i++) {
      const t = o + i;
      if (t < 0 || t >= n) continue;
      out[t] += (yr[i] / size) * w[i];
      norm[t] += w[i] * w[i];
    }
  }
  return Float32Array.from({ length: n }, (_, i) => (norm[i] > 1e-9 ? out[i] / norm[i] : 0));
}

/** `noisy` (= `clean` + noise) through the oracle Wiener mask, frames of `size` samples. */
export function wienerOracle(clean: Float32Array, noisy: Float32Array, size = 2048): Float32Array {
  const n = Math.min(clean.length, noisy.length);
  const y = noisy.subarray(0, n);
  const noise = y.map((v, i) => v - clean[i]);
  const w = hann(size);
  return maskFilter(y, size, (o) => {
    const [sr, si] = spectrum(clean, o, w);
    const [nr, ni] = spectrum(noise, o, w);
    return sr.map((x, k) => {
      const s2 = x * x + si[k] ** 2;
      return s2 / (s2 + nr[k] ** 2 + ni[k] ** 2 + 1e-30);
    });
  });
}

/**
 * `noisy` through the known-noise Wiener filter: the noise's power per bin averaged over the whole of `noise`, the a
 * priori SNR ξ = α·(last frame's |gain·Y|²)/λ + (1−α)·max(|Y|²/λ − 1, 0), the gain ξ / (1 + ξ). α 0.8 and frames of
 * 4096 samples (85 ms at 48 kHz) gained the most on the made mix (+4.9 dB) of α 0 / 0.5 / 0.8 at 2048 and 4096
 * samples and α 0.9 / 0.98 at 1024 and 2048 (+3.2 to +4.9; docs/dev/audio.md).
 */
export function knownNoiseWiener(noise: Float32Array, noisy: Float32Array, size = 4096, alpha = 0.8): Float32Array {
  const w = hann(size);
  const lambda = new Float64Array(size);
  const frames = offsets(noise.length, size);
  for (const o of frames) {
    const [r, i] = spectrum(noise, o, w);
    for (let k = 0; k < size; k++) lambda[k] += (r[k] ** 2 + i[k] ** 2) / frames.length;
  }
  const last = new Float64Array(size);
  return maskFilter(noisy, size, (_o, re, im) =>
    re.map((x, k) => {
      const y2 = x * x + im[k] ** 2;
      const l = lambda[k] + 1e-30;
      const xi = (alpha * last[k]) / l + (1 - alpha) * Math.max(y2 / l - 1, 0);
      const g = xi / (1 + xi);
      last[k] = g * g * y2;
      return g;
    }),
  );
}
