import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPARE_MAX_WIDTH, compareSize, grabFrame } from '../../../src/extension/compare/frame-grab';
import { parseCompareHostMessage, parseCompareWebviewMessage } from '../../../src/protocol/compare-messages';

describe('compare view: frames at a time, and its messages', function () {
  this.timeout(30_000);
  let dir: string;
  let clip: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'huaju4k-compare-'));
    clip = join(dir, 'clip.mp4');
    // biome-ignore format: ffmpeg argv reads best as option/value pairs
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=24', '-frames:v', '48',
      '-c:v', 'libx264', '-pix_fmt', 'yuv420p', clip]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('grabs a JPEG of the asked size, and a different picture at another time', async () => {
    const a = await grabFrame('ffmpeg', clip, 0, 256, 144);
    const b = await grabFrame('ffmpeg', clip, 1.5, 256, 144);
    assert.deepEqual([...a.subarray(0, 2)], [0xff, 0xd8], 'a JPEG');
    assert.notDeepEqual(a, b);
    const probe = execFileSync(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', '-'],
      {
        input: a,
      },
    ).toString();
    assert.equal(probe.trim(), '256,144');
  });

  it('says which file and time it could not read', async () => {
    await assert.rejects(grabFrame('ffmpeg', join(dir, 'missing.mp4'), 2, 64, 36), /missing\.mp4 at 2\.00 s/);
  });

  it('shows both frames at the output size, bounded, with even sides', () => {
    assert.deepEqual(compareSize(256, 144), { width: 256, height: 144 });
    assert.deepEqual(compareSize(3840, 2160), { width: COMPARE_MAX_WIDTH, height: 1080 });
  });

  it('accepts only well-formed messages', () => {
    assert.deepEqual(parseCompareWebviewMessage({ type: 'compareSeek', seq: 3, timeS: 1.5 }), {
      type: 'compareSeek',
      seq: 3,
      timeS: 1.5,
    });
    assert.equal(parseCompareWebviewMessage({ type: 'compareSeek', seq: 1.5, timeS: 1 }), undefined);
    assert.equal(parseCompareWebviewMessage({ type: 'compareSeek', seq: 1, timeS: -1 }), undefined);
    assert.equal(parseCompareWebviewMessage({ type: 'run', cmd: 'rm' }), undefined);
    assert.equal(parseCompareHostMessage({ type: 'init' }), undefined);
  });

  it('checks every field of a host message, as the monitor does', () => {
    const frames = {
      type: 'compareFrames',
      seq: 2,
      timeS: 1,
      mime: 'image/jpeg',
      source: 'a',
      output: 'b',
      width: 4,
      height: 2,
    };
    assert.deepEqual(parseCompareHostMessage({ ...frames, extra: 1 }), frames);
    assert.equal(parseCompareHostMessage({ ...frames, source: 7 }), undefined);
    assert.equal(parseCompareHostMessage({ ...frames, width: 0 }), undefined);
    assert.equal(parseCompareHostMessage({ ...frames, mime: 'text/html' }), undefined);
    assert.equal(parseCompareHostMessage({ type: 'compareInit', source: 'a', output: 'b' }), undefined);
    assert.equal(parseCompareHostMessage({ type: 'compareError', seq: 1 }), undefined);
    assert.deepEqual(parseCompareHostMessage({ type: 'compareError', seq: 1, message: 'x' }), {
      type: 'compareError',
      seq: 1,
      message: 'x',
    });
  });
});
