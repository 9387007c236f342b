import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { probeVideo } from '../../../src/extension/videos/video-probe';
import { basicClip, clip, freshDir } from '../engine/helpers';

// The Videos view shows the size the engine will see: rotation and pixel aspect applied (real ffprobe, real clips).
describe('Videos view probe: the picture as displayed', () => {
  it('a phone clip stored landscape with a 90° rotation is listed portrait', async () => {
    const rotated = clip('rot90-64x36.mp4', ['-i', basicClip(12), '-c', 'copy', '-metadata:s:v:0', 'rotate=90']);
    assert.deepEqual(await probeVideo('ffprobe', rotated), { width: 36, height: 64, fps: 20, durationS: 0.6 });
  });

  it('non-square pixels (PAL 16:15) are listed at their display width', async () => {
    const pal = clip('sar-72x56.mp4', [
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=72x56:rate=25:duration=0.2',
      '-vf',
      'setsar=16/15',
    ]);
    const r = await probeVideo('ffprobe', pal);
    assert.ok('width' in r, JSON.stringify(r));
    assert.deepEqual([r.width, r.height, r.fps], [77, 56, 25]);
  });

  it('a file that is not a video says so', async () => {
    const text = join(freshDir('huaju4k-probe-'), 'notes.mp4');
    writeFileSync(text, 'not a video');
    const r = await probeVideo('ffprobe', text);
    assert.ok('error' in r && r.error.length > 0, JSON.stringify(r));
  });
});
