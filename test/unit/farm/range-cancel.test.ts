import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { framesDone, readManifest } from '../../../src/engine/checkpoint/manifest';
import { rangeDir } from '../../../src/engine/farm/ranges';
import type { EngineEvent, ErrorEvent } from '../../../src/protocol/engine-events';
import { basicClip, collect, freshDir, runCli, startCli } from '../engine/helpers';
import { deterministicArgs, workFolder } from '../resume/helpers';
import { decodedFrameMd5s } from './helpers';

const SEGMENT = 3;
const FRAMES = 24;
const SLOW_NULL = { HUAJU4K_NULL_DEVICE_MS: '120', HUAJU4K_PROGRESS_EVERY_MS: '0' };

/**
 * A farm range cancelled (SIGTERM) in the middle of a segment closes that segment short at its last encoded frame,
 * as a local cancel does (test/unit/resume/cancel-close.test.ts), and the job resumed from there gives the frames of
 * an uninterrupted local run. Lossless (--crf 0), as cancel-close is: with a lossy encoder the short segment and the
 * segments after it are cut elsewhere than in the uninterrupted run, and x264's frame types and rate control follow
 * the cut, so their decoded frames differ however right the range path is (the farm-faults failure of e6af8db was
 * that: frames 3–11 of range 0:4, after a 2-frame segment 3–4).
 */
describe('farm: a --workers job cancelled (SIGTERM) mid-segment keeps a short segment; resumed, the frames of a local run', function () {
  this.timeout(600000);
  let dir: string;
  let input: string;
  const args = (out: string, extra: string[] = []) =>
    deterministicArgs(input, out, SEGMENT, ['--model', 'null', '--scale', '4', ...extra]);
  before(() => {
    dir = freshDir('huaju4k-farm-cancel-');
    input = join(dir, 'in.mp4');
    copyFileSync(basicClip(FRAMES), input);
  });

  /** Runs --workers 1 --ranges 2 (ranges 0:4 and 4:8) with `crf`, SIGTERM at the 4th frame: range 0:4 keeps 3 + 1–2 frames. */
  async function cancelAndResume(name: string, crf: string[]): Promise<{ out: string[]; ref: string[] }> {
    const ref = join(dir, `${name}-ref.mp4`);
    const local = await runCli(args(ref, crf), SLOW_NULL);
    assert.equal(local.code, 0, local.stderr);
    const out = join(dir, `${name}.mp4`);
    const child = startCli(args(out, [...crf, '--workers', '1', '--ranges', '2']), SLOW_NULL);
    let at = -1;
    const r = await collect(child, (e: EngineEvent) => {
      if (at >= 0 || e.type !== 'progress' || e.frame < SEGMENT + 1) return;
      at = e.frame;
      child.kill('SIGTERM');
    });
    assert.equal(r.code, 5, r.stderr);
    const m = readManifest(rangeDir(workFolder(out), { firstSegment: 0 }));
    assert.ok(m, 'range 0:4 keeps its checkpoint');
    const kept = framesDone(m);
    assert.ok(kept >= at && kept < 2 * SEGMENT, `kept ${kept} frames, cancelled at ${at}`);
    assert.equal(m.segments.length, 2);
    assert.ok(m.segments[1].frames < SEGMENT, 'the open segment was closed short');
    const err = r.events.find((e): e is ErrorEvent => e.type === 'error');
    assert.equal(err?.reason, 'cancelled');
    assert.equal(err?.framesKept, kept);

    const resumed = await runCli(args(out, [...crf, '--workers', '2', '--resume']), SLOW_NULL);
    assert.equal(resumed.code, 0, resumed.stderr);
    return { out: decodedFrameMd5s(out), ref: decodedFrameMd5s(ref) };
  }

  it('lossless (--crf 0): resumed, the frames of an uninterrupted local run', async () => {
    const { out, ref } = await cancelAndResume('lossless', ['--crf', '0']);
    assert.deepEqual(out, ref, 'the resumed job gives the frames of a local run');
  });

  it('lossy (the default crf): only the cut segment (frames 3–5) differs; the segments after it are cut where a local run cuts them', async () => {
    const { out, ref } = await cancelAndResume('lossy', []);
    assert.equal(out.length, FRAMES);
    const differ = out.flatMap((f, i) => (f === ref[i] ? [] : [i]));
    assert.ok(
      differ.every((i) => i >= SEGMENT && i < 2 * SEGMENT),
      `frames that differ: ${differ.join(', ')}`,
    );
  });
});
