import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { isCompleteJpeg, JpegStreamSplitter } from '../../../src/hub/jpeg';
import { jpegDimensions, taggedJpeg, tinyJpeg } from './helpers';

describe('hub units: JPEG framing', () => {
  /** Ten real frames as ffmpeg's MJPEG muxer writes them, concatenated. */
  function mjpegStream(): Buffer {
    return execFileSync('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=64x36:r=10', '-frames:v', '10'],
      ...['-f', 'mjpeg', '-q:v', '5', 'pipe:1'],
    ]);
  }

  it('splits an ffmpeg MJPEG stream at any chunking into exactly its frames', () => {
    const stream = mjpegStream();
    const whole = new JpegStreamSplitter(1 << 20).push(stream);
    assert.equal(whole.length, 10);
    assert.equal(Buffer.concat(whole).length, stream.length);
    for (const size of [1, 7, 333, 4096]) {
      const s = new JpegStreamSplitter(1 << 20);
      const frames: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) frames.push(...s.push(stream.subarray(i, i + size)));
      assert.equal(frames.length, 10, `chunk ${size}`);
      frames.forEach((f, i) => {
        assert.ok(f.equals(whole[i]));
      });
      assert.equal(s.pendingBytes, 0);
    }
    assert.deepEqual(jpegDimensions(whole[0]), { width: 64, height: 36 });
  });

  it('is not fooled by FFD9 inside a segment, skips garbage, and discards oversized frames', () => {
    const base = taggedJpeg(1);
    const trap = Buffer.from([0xff, 0xfe, 0x00, 0x06, 0xff, 0xd9, 0xff, 0xd8]); // COM holding EOI and SOI bytes
    const tricky = Buffer.concat([base.subarray(0, 2), trap, base.subarray(2)]);
    const s = new JpegStreamSplitter(1 << 20);
    const out = s.push(Buffer.concat([Buffer.from('junk\xff'), tricky, Buffer.from([0x00, 0x12]), base]));
    assert.equal(out.length, 2);
    assert.ok(out[0].equals(tricky));
    assert.ok(out[1].equals(base));
    const small = new JpegStreamSplitter(200);
    const got = small.push(Buffer.concat([tinyJpeg(0), base.subarray(0, 150)]));
    assert.equal(got.length, 0);
    assert.equal(small.discarded, 1);
    assert.equal(small.pendingBytes, 150, 'the next frame start is kept');
  });

  it('validates whole frames', () => {
    const j = tinyJpeg(0);
    assert.ok(isCompleteJpeg(j));
    assert.ok(!isCompleteJpeg(j.subarray(0, j.length - 1)));
    assert.ok(!isCompleteJpeg(j.subarray(1)));
    assert.ok(!isCompleteJpeg(Buffer.alloc(0)));
  });

  it('validates the structure, not only the first and last two bytes', () => {
    const j = tinyJpeg(0);
    assert.ok(!isCompleteJpeg(Buffer.from('\xff\xd8GARBAGE\xff\xd9', 'latin1')));
    assert.ok(!isCompleteJpeg(Buffer.from([0xff, 0xd8, 0xff, 0xd9])), 'no frame header, no scan');
    const junkAfterSoi = Buffer.concat([j.subarray(0, 2), Buffer.from('junk'), j.subarray(2)]);
    assert.ok(!isCompleteJpeg(junkAfterSoi));
    const twoFrames = Buffer.concat([j, j]);
    assert.ok(!isCompleteJpeg(twoFrames), 'one frame per message');
    const badLength = Buffer.from(j);
    badLength.writeUInt16BE(0xfff0, 4); // first segment claims to run past the end
    assert.ok(!isCompleteJpeg(badLength));
    assert.ok(isCompleteJpeg(taggedJpeg(3)), 'extra segments are fine');
  });
});
