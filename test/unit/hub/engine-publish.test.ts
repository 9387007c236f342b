import assert from 'node:assert/strict';
import { join } from 'node:path';
import { basicClip, FAST_MODEL, freshDir, runCli } from '../engine/helpers';
import { closeHubs, closeWs, connect, startHub } from './helpers';

const isJpeg = (b: Buffer) => b[0] === 0xff && b[1] === 0xd8 && b.at(-2) === 0xff && b.at(-1) === 0xd9;

describe('engine --publish: preview frames reach a real stream hub', () => {
  afterEach(closeHubs);

  it('a subscriber of the hub receives the run’s input (raw) and output (processed) JPEGs', async () => {
    const { ws } = await startHub();
    const sub = await connect(ws('/video_out?headers=1'));
    try {
      const out = join(freshDir(), 'published.mp4');
      const res = await runCli([
        'enhance',
        basicClip(6),
        '-o',
        out,
        '--model',
        FAST_MODEL,
        '--max-frames',
        '4',
        '--publish',
        ws('/video_in'),
      ]);
      assert.equal(res.code, 0, res.stderr);
      await sub.until(() => sub.binaries.length >= 2, 'two published frames');
      assert.ok(sub.binaries.every(isJpeg), 'every broadcast frame is a complete JPEG');
      const kinds = sub.texts.map((t) => (JSON.parse(t) as { kind?: string }).kind);
      assert.ok(kinds.includes('raw') && kinds.includes('processed'), `headers: ${sub.texts.join(' ')}`);
    } finally {
      await closeWs(sub.ws);
    }
  });

  it('rejects a --publish value that is not a WebSocket URL (exit 2)', async () => {
    const res = await runCli(['enhance', basicClip(6), '--publish', 'http://example/video_in']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--publish takes a WebSocket URL/);
  });
});
