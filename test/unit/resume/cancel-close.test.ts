import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { framesDone, readManifest } from '../../../src/engine/checkpoint/manifest';
import type { EngineEvent, ErrorEvent, StartEvent } from '../../../src/protocol/engine-events';
import { basicClip, collect, freshDir, runCli, startCli } from '../engine/helpers';
import { decodedFrameMd5s } from '../farm/helpers';
import { deterministicArgs, packets, partialFiles, workFolder } from './helpers';

/**
 * Frames of the clip: enough left after the cancel point that the engine cannot finish them all before the SIGTERM
 * reaches it (with 16, a CI run's engine had encoded every frame by then: "kept 16 frames, cancelled at 5").
 */
const FRAMES = 64;
const ENV = { HUAJU4K_PROGRESS_EVERY_MS: '0' };

/**
 * A cancel (SIGTERM, as the extension's Cancel sends) in the middle of a segment closes that segment at the last
 * frame the encoder took, so the cancel keeps its frames — before, a clip shorter than one segment kept nothing.
 * Lossless (--crf 0) so the joined output can be compared frame by frame with an uninterrupted run although its
 * segments are cut elsewhere; temporal, tile reuse and motion stay at their defaults (on), so the resume's priming
 * of the temporal state is part of what is compared.
 */
describe('resume: a cancel closes the open segment, and the resume continues from the frame after it', function () {
  this.timeout(600000);
  let dir: string;
  let input: string;
  let reference: string[];
  const args = (out: string, segment: number) => deterministicArgs(input, out, segment, ['--crf', '0']);

  before(async () => {
    dir = freshDir('huaju4k-cancel-close-');
    input = join(dir, 'in.mp4');
    copyFileSync(basicClip(FRAMES), input);
    const ref = join(dir, 'ref.mp4');
    const r = await runCli(args(ref, 6), ENV);
    assert.equal(r.code, 0, r.stderr);
    reference = decodedFrameMd5s(ref);
    assert.equal(reference.length, FRAMES);
  });

  /** Runs the engine and sends SIGTERM at the first progress event from `frame` on; the frame reported then. */
  async function cancelAt(out: string, segment: number, frame: number) {
    const child = startCli(args(out, segment), ENV);
    let atFrame = -1;
    const result = await collect(child, (e: EngineEvent) => {
      if (atFrame >= 0 || e.type !== 'progress' || e.frame < frame) return;
      atFrame = e.frame;
      child.kill('SIGTERM');
    });
    return { result, atFrame };
  }

  for (const c of [
    { name: 'a clip shorter than one segment', segment: 100, at: 5 },
    { name: 'in the middle of the second segment', segment: 12, at: 17 },
  ]) {
    it(`${c.name}: the frames encoded before the cancel are kept; resumed, the same frames as an uninterrupted run`, async () => {
      const out = join(dir, `cancel-${c.segment}.mp4`);
      const { result, atFrame } = await cancelAt(out, c.segment, c.at);
      assert.ok(atFrame >= c.at, 'cancelled mid-job');
      assert.equal(result.code, 5, result.stderr);
      const m = readManifest(workFolder(out));
      assert.ok(m, 'the checkpoint is kept');
      const kept = framesDone(m);
      const err = result.events.find((e): e is ErrorEvent => e.type === 'error');
      assert.equal(err?.reason, 'cancelled');
      assert.equal(err?.framesKept, kept, 'the cancelled event says what the checkpoint holds');
      assert.ok(kept >= atFrame && kept < FRAMES, `kept ${kept} frames, cancelled at ${atFrame}`);
      const last = m.segments.at(-1);
      assert.ok(last && last.frames < c.segment, 'the open segment was closed short');
      assert.equal(await packets(join(workFolder(out), last.file)), last.frames, 'the short segment holds its frames');
      assert.deepEqual(partialFiles(workFolder(out)), [], 'no partial file left');
      assert.ok(!existsSync(out), 'no output presented as complete');

      const resumed = await runCli(['resume', out, '--json'], ENV);
      assert.equal(resumed.code, 0, resumed.stderr);
      const start = resumed.events.find((e): e is StartEvent => e.type === 'start');
      assert.equal(start?.resumeFromFrame, kept, 'resumes at the frame after the closed segment');
      assert.deepEqual(decodedFrameMd5s(out), reference, 'the joined output differs from the uninterrupted run');
    });
  }
});
