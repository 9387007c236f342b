import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { children } from '../../../src/engine/children';
import { PreviewJpegEncoder } from '../../../src/engine/ffmpeg/preview-jpeg';

/** Decodes a JPEG with ffmpeg into w×h rgb24 and returns its mean per channel. */
function meanRgb(jpeg: Buffer, w: number, h: number): number[] {
  const rgb = execFileSync('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    input: jpeg,
  });
  assert.equal(rgb.length, w * h * 3);
  const sum = [0, 0, 0];
  for (let i = 0; i < rgb.length; i++) sum[i % 3] += rgb[i];
  return sum.map((s) => s / (w * h));
}

describe('engine: preview JPEGs from one long-lived ffmpeg (issue 33)', function () {
  this.timeout(60000);
  it('answers each frame with its own JPEG, one process for all, reaped by close()', async () => {
    const before = children.size;
    const enc = new PreviewJpegEncoder('ffmpeg');
    const colours = [
      [200, 30, 30],
      [30, 200, 30],
      [30, 30, 200],
    ];
    for (const [r, g, b] of colours) {
      const frame = new Uint8Array(1280 * 720 * 3).map((_, i) => [r, g, b][i % 3]);
      const { jpeg, width, height } = await enc.encode(frame, 1280, 720);
      assert.deepEqual([width, height], [320, 180]);
      assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
      const mean = meanRgb(jpeg, width, height);
      for (const [c, want] of [r, g, b].entries()) assert.ok(Math.abs(mean[c] - want) < 6, `${mean} vs ${[r, g, b]}`);
      assert.equal(children.size, before + 1, 'one ffmpeg for every preview');
    }
    await assert.rejects(enc.encode(new Uint8Array(64 * 64 * 3), 64, 64), /another size/);
    await enc.close();
    assert.equal(children.size, before);
    await assert.rejects(enc.encode(new Uint8Array(1280 * 720 * 3), 1280, 720), /closed/);
  });
});
