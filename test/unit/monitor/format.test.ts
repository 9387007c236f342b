import assert from 'node:assert/strict';
import { parseColor, scaleAlpha, withAlpha } from '../../../webview/charts-colour';
import {
  baseName,
  formatAudio,
  formatBytes,
  formatDuration,
  formatFps,
  formatMs,
  formatPercent,
} from '../../../webview/format';

describe('monitor: formatting', () => {
  it("says the done report's sound: loudness and noise floor, as recorded → as treated", () => {
    const line = formatAudio({
      mode: 'stage',
      before: { integratedLufs: -27.43, truePeakDb: -3.2, noiseFloorDb: -52.06, speechDb: -24.5 },
      after: { integratedLufs: -16, noiseFloorDb: -66.34, speechDb: -13.1 },
    });
    assert.equal(line, 'Sound (stage): loudness −27.4 → −16.0 LUFS, noise floor −52.1 → −66.3 dBFS');
    const silent = formatAudio({
      mode: 'clean',
      before: { integratedLufs: Number.NEGATIVE_INFINITY, truePeakDb: 0, noiseFloorDb: -90, speechDb: 0 },
      after: { integratedLufs: Number.NaN, noiseFloorDb: -90, speechDb: 0 },
    });
    assert.equal(silent, 'Sound (clean): loudness — → — LUFS, noise floor −90.0 → −90.0 dBFS');
  });

  it('formats bytes, durations, rates and percentages for people', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(420 * 1024 ** 2), '420.0 MiB');
    assert.equal(formatBytes(80 * 1024 ** 3), '80.00 GiB');
    assert.equal(formatBytes(undefined), '—');
    assert.equal(formatDuration(59.6), '1:00');
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatDuration(-1), '—');
    assert.equal(formatFps(2.345), '2.35');
    assert.equal(formatFps(29.97), '30.0');
    assert.equal(formatPercent(0.4213), '42%');
    assert.equal(formatPercent(0.004213, 1), '0.4%');
    assert.equal(formatMs(3.45), '3.5 ms');
    assert.equal(formatMs(1520), '1.52 s');
    assert.equal(baseName('C:\\v\\a.mp4'), 'a.mp4');
    assert.equal(baseName('/v/b.mkv'), 'b.mkv');
  });

  it('derives chart fills from theme colours it can parse, and none from others', () => {
    assert.equal(withAlpha('#3794ff', 0.5), 'rgba(55, 148, 255, 0.5)');
    assert.equal(withAlpha('#fff', 0.1), 'rgba(255, 255, 255, 0.1)');
    assert.equal(withAlpha('rgb(1,2,3)', 0.1), 'rgba(1, 2, 3, 0.1)');
    assert.equal(withAlpha('var(--x)', 0.1), undefined);
    assert.deepEqual(parseColor('#0078d480'), [0, 120, 212, 128 / 255]);
    assert.equal(scaleAlpha('rgba(204, 204, 204, 0.5)', 0.4), 'rgba(204, 204, 204, 0.2)');
    assert.equal(scaleAlpha('canvastext', 0.4), 'canvastext');
  });
});
