import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DecodedFrame, FrameDecoder } from '../../../src/engine/decoder';
import { probeMedia } from '../../../src/engine/probe';
import { clip, freshDir, psnr } from './helpers';

/** Ogg's page checksum: CRC-32, polynomial 0x04c11db7, not reflected, initial value 0 (RFC 3533). */
function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc = (crc ^ (b << 24)) >>> 0;
    for (let k = 0; k < 8; k++) crc = crc & 0x80000000 ? ((crc << 1) ^ 0x04c11db7) >>> 0 : (crc << 1) >>> 0;
  }
  return crc;
}

/**
 * The 1906 film's layout, made from a 224×160 Theora file: its identification header (the first Ogg page) is
 * rewritten to say the picture is 214 wide at x = 4, as encoders that centre the picture in the 16-aligned frame
 * write it (ffmpeg's libtheora wrapper always writes x = 0). The coded frames are untouched, so the right decode is
 * known: columns 4–217 of the 224-wide picture.
 */
function offsetTheora(full: string, out: string): void {
  const d = Buffer.from(readFileSync(full));
  const h = d.indexOf(Buffer.from('\x80theora', 'latin1'));
  assert.ok(h > 0 && d.subarray(0, 4).toString() === 'OggS', 'an Ogg Theora file');
  assert.equal(d.readUIntBE(h + 14, 3), 224, 'picture width field');
  d.writeUIntBE(214, h + 14, 3); // PICW
  d[h + 20] = 4; // PICX
  const segments = d[26];
  let end = 27 + segments;
  for (let i = 0; i < segments; i++) end += d[27 + i];
  d.writeUInt32LE(0, 22);
  d.writeUInt32LE(oggCrc(d.subarray(0, end)), 22);
  writeFileSync(out, d);
}

async function firstFrame(path: string): Promise<{ width: number; frame: DecodedFrame }> {
  const info = await probeMedia('ffprobe', path);
  const dec = new FrameDecoder({ ffmpeg: 'ffmpeg', info, maxFrames: 1 });
  for await (const frame of dec.frames()) return { width: info.width, frame };
  throw new Error(`no frame from ${path}`);
}

/** Columns [x, x + w) of an rgb24 frame `width` wide. */
function cropColumns(frame: Buffer, width: number, x: number, w: number): Buffer {
  const rows = frame.length / (width * 3);
  const out = Buffer.alloc(rows * w * 3);
  for (let y = 0; y < rows; y++) frame.copy(out, y * w * 3, (y * width + x) * 3, (y * width + x + w) * 3);
  return out;
}

describe('engine: decoder on Theora with its picture offset in the coded frame', function () {
  this.timeout(60000);

  it('delivers the 214×160 picture at x = 4, not the 218 columns ffmpeg leaves by default', async () => {
    const full = clip('theora-224x160.ogv', [
      ...['-f', 'lavfi', '-i', 'testsrc2=size=224x160:rate=16:duration=0.25', '-c:v', 'libtheora', '-q:v', '7'],
    ]);
    const film = join(freshDir(), 'film-214-at-4.ogv');
    offsetTheora(full, film);
    const got = await firstFrame(film);
    assert.equal(got.width, 214, 'ffprobe reports the picture size');
    assert.equal(got.frame.data.length, 214 * 160 * 3);
    const whole = await firstFrame(full);
    const truth = cropColumns(whole.frame.data, 224, 4, 214);
    const db = psnr(got.frame.data, truth);
    // Only the edge columns differ (chroma interpolated across the crop edge in one, replicated in the other).
    assert.ok(db > 40, `the picture is columns 4–217 of the coded frame: PSNR ${db.toFixed(1)} dB`);
  });
});
