import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { denoiseChain, peakLimiter } from '../../../src/engine/audio/audio-chain';
import type { AudioLevels } from '../../../src/engine/audio/audio-levels';

/** A far-miked, quiet recording: its loudness needs +35 dB, so the limiter's ceiling (-38 dBFS) falls 14 dB under alimiter's floor. */
const QUIET: AudioLevels = {
  integratedLufs: -51,
  truePeakDb: -30,
  lraLu: 8,
  thresholdLufs: -61,
  noiseFloorDb: -70,
  speechDb: -45,
  channels: 1,
  startS: 0,
};

describe('audio chain: the filters set from the recording’s levels', () => {
  it('a very quiet recording is raised before the limiter, whose limit stays in alimiter’s range, and ffmpeg runs it', () => {
    for (const mode of ['clean', 'stage'] as const) {
      const chain = `${denoiseChain(mode, QUIET)},${peakLimiter(QUIET)}`;
      const limit = Number(/alimiter=limit=([0-9.e+-]+)/.exec(chain)?.[1]);
      assert.ok(limit >= 0.0625 && limit <= 1, `${mode}: limit ${limit} in [0.0625, 1]`);
      assert.match(chain, /volume=14\.00dB,alimiter/);
      // ffmpeg itself accepts the chain (before the fix: "Value 0.012840 for parameter 'limit' out of range").
      execFileSync('ffmpeg', [
        ...['-v', 'error', '-nostdin', '-f', 'lavfi', '-i', 'sine=f=440:d=0.5:sample_rate=48000'],
        ...['-af', chain, '-f', 'null', '-'],
      ]);
    }
  });

  it('a recording whose peaks already fit gets no limiter, nor does the denoise chain hold one', () => {
    assert.equal(peakLimiter({ ...QUIET, integratedLufs: -20, truePeakDb: -12 }), '');
    assert.doesNotMatch(denoiseChain('clean', QUIET), /alimiter|volume=/);
  });

  it('the limiter is set from the denoised sound: a lower loudness (the noise taken out) sets a lower ceiling', () => {
    const limit = (l: AudioLevels) => Number(/alimiter=limit=([0-9.e+-]+)/.exec(peakLimiter(l))?.[1]);
    const noisy = { ...QUIET, integratedLufs: -30, truePeakDb: -12 };
    const denoised = { ...noisy, integratedLufs: -33 };
    // -16 LUFS needs +14 dB (ceiling -17 dBFS), then +17 dB (ceiling -20 dBFS).
    assert.ok(Math.abs(20 * Math.log10(limit(noisy)) - -17) < 0.01, peakLimiter(noisy));
    assert.ok(Math.abs(20 * Math.log10(limit(denoised)) - -20) < 0.01, peakLimiter(denoised));
  });
});
