import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skippedText, splitReadable } from '../../../src/extension/enhance/batch-skip';
import { basicClip } from '../engine/helpers';

describe('folder batches skip done and unreadable videos and say so', () => {
  it('an unreadable file is left out by ffprobe, by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huaju4k-batch-'));
    try {
      const broken = join(dir, 'broken.mp4');
      writeFileSync(broken, 'not a video at all');
      const clip = basicClip(4);
      const { ok, unreadable } = await splitReadable([broken, clip], 'ffprobe');
      assert.deepEqual(ok, [clip]);
      assert.deepEqual(unreadable, ['broken.mp4']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what was skipped and why, or that there was nothing to do', () => {
    const b = { name: 'films', found: 4, done: 1, unreadable: ['broken.mp4'], todo: 2 };
    assert.equal(skippedText(b), 'huaju4k: films: enhancing 2; skipped 1 already enhanced, 1 unreadable (broken.mp4).');
    assert.equal(
      skippedText({ ...b, done: 3, unreadable: [], todo: 0 }),
      'huaju4k: films: nothing to enhance; skipped 3 already enhanced.',
    );
    assert.equal(
      skippedText({ ...b, found: 0, done: 0, unreadable: [], todo: 0 }),
      'huaju4k: films has no videos; nothing to enhance.',
    );
    assert.equal(skippedText({ ...b, done: 0, unreadable: [] }), undefined);
  });
});
