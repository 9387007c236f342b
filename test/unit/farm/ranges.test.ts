import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledError } from '../../../src/engine/errors';
import { finishFarmJob, openFarmJob } from '../../../src/engine/farm/farm-job';
import { rangeDir } from '../../../src/engine/farm/ranges';
import { runRange } from '../../../src/engine/farm/run-range';
import { findFfmpegTools } from '../../../src/engine/ffmpeg/ffmpeg-tools';
import { probeMedia } from '../../../src/engine/ffmpeg/probe';
import { TileUpscaler } from '../../../src/engine/inference/upscaler';
import { type LoadedModel, loadModel } from '../../../src/engine/model/loader';
import { runEnhance } from '../../../src/engine/pipeline/pipeline';
import type { EnhanceContext, EnhanceOptions } from '../../../src/engine/pipeline/pipeline-types';
import { createTemporal, type TemporalSettings, temporalFactory } from '../../../src/engine/temporal/create';
import { basicClip, FAST_MODEL, freshDir, streams, vfrClip } from '../engine/helpers';
import { prng } from '../resume/helpers';
import { decodedFrameMd5s } from './helpers';

const SEGMENT = 3;

type Temporal = ReturnType<typeof createTemporal>;

interface Fixture {
  model: LoadedModel;
  input: string;
}

const TEMPORAL: TemporalSettings = {
  strength: 'high',
  reuse: true,
  motion: 'flow',
  reuseOptions: { tile: 8, refreshEvery: 4 },
};

/** A fresh context: temporal blend, tile reuse and motion (optical flow) on, as the CLI's defaults have them. */
async function context(
  st: Fixture,
  prime = true,
  onSegment?: (index: number) => void,
  temporal?: Temporal,
): Promise<EnhanceContext> {
  const tools = findFfmpegTools();
  const info = await probeMedia(tools.ffprobe, st.input);
  const parts = temporal ?? createTemporal(new TileUpscaler(st.model, { tile: 0, pad: 12 }), TEMPORAL);
  return {
    tools,
    info,
    model: { ...st.model, executionProvider: 'cpu' },
    upscaler: parts.upscaler,
    stages: parts.stages,
    temporal: prime ? parts : undefined,
    tile: 0,
    emit: (e) => (e.type === 'segment' ? onSegment?.(e.index) : undefined),
  };
}

const options = (st: Fixture, output: string, signal?: AbortSignal): EnhanceOptions => ({
  input: st.input,
  output,
  scale: 2,
  encoder: { codec: 'libx264', threads: 1 },
  segmentFrames: SEGMENT,
  signal,
  pixelSettings: { temporal: 'high', reuse: true, motion: 'flow' },
});

/** Every range in a shuffled order, each with a fresh temporal state (as a separate worker would have). */
async function runAsRanges(st: Fixture, output: string, count: number, seed: number, prime = true) {
  const job = openFarmJob(options(st, output), await context(st), count);
  const order = [...job.ranges];
  const rand = prng(seed);
  order.sort(() => rand() - 0.5);
  for (const r of order) await runRange(options(st, output), await context(st, prime), r);
  await finishFarmJob(job, options(st, output), await context(st));
}

/**
 * What a range engine (farm/range-server.ts) does: one model, the ranges one after another (here last to first, so
 * the first range starts after the others), the temporal parts from temporalFactory per range.
 */
async function oneEngineLastToFirst(st: Fixture, dir: string): Promise<void> {
  const ref = join(dir, 'ref.mp4');
  if (!existsSync(ref)) await runEnhance(options(st, ref), await context(st));
  const run = async (out: string, partsFor: () => Promise<Temporal>) => {
    const job = openFarmJob(options(st, out), await context(st), 3);
    for (const r of [...job.ranges].reverse())
      await runRange(options(st, out), await context(st, true, undefined, await partsFor()), r);
    await finishFarmJob(job, options(st, out), await context(st));
    return decodedFrameMd5s(out);
  };
  const model = new TileUpscaler(st.model, { tile: 0, pad: 12 });
  assert.deepEqual(await run(join(dir, 'one-engine.mp4'), temporalFactory(model, TEMPORAL)), decodedFrameMd5s(ref));
  // The parts of the range before carried into the next (the first range starts from their state): other frames.
  const kept = createTemporal(model, TEMPORAL);
  assert.notDeepEqual(await run(join(dir, 'kept-state.mp4'), async () => kept), decodedFrameMd5s(ref));
}

const CASES = [
  { name: 'CFR clip with audio', clip: () => basicClip(20) },
  { name: 'VFR clip with audio', clip: vfrClip },
];

for (const c of CASES)
  describe(`farm ranges: a job run as ranges in any order joins to the frames of one local run (${c.name})`, function () {
    this.timeout(600000);
    let dir: string;
    const st = {} as Fixture;
    before(async () => {
      st.model = await loadModel(FAST_MODEL, { intraOpNumThreads: 1 });
      dir = freshDir('huaju4k-farm-ranges-');
      st.input = join(dir, 'in.mp4');
      copyFileSync(c.clip(), st.input);
    });

    it('3 and 5 ranges in shuffled orders: the same decoded frames and the same audio as the local run', async () => {
      const ref = join(dir, 'ref.mp4');
      await runEnhance(options(st, ref), await context(st));
      const want = decodedFrameMd5s(ref);
      for (const [count, seed] of [
        [3, 7],
        [5, 11],
      ]) {
        const out = join(dir, `ranges-${count}.mp4`);
        await runAsRanges(st, out, count, seed);
        assert.deepEqual(decodedFrameMd5s(out), want, `${count} ranges, seed ${seed}`);
        assert.deepEqual(
          streams(out).map((s) => s.codec_type),
          streams(ref).map((s) => s.codec_type),
        );
        assert.ok(!existsSync(`${out}.huaju4k`), 'work folder removed');
      }
    });

    it('a range cut off mid-way goes on from its last complete segment and still joins to the same frames', async () => {
      const ref = join(dir, 'ref.mp4');
      if (!existsSync(ref)) await runEnhance(options(st, ref), await context(st));
      const out = join(dir, 'cut.mp4');
      const job = openFarmJob(options(st, out), await context(st), 2);
      const [first, second] = job.ranges;
      const abort = new AbortController();
      // The second range is stopped once its first segment is recorded (its segment numbers are its own).
      await assert.rejects(
        runRange(options(st, out, abort.signal), await context(st, true, () => abort.abort('SIGTERM')), second),
        CancelledError,
      );
      // Its frames sit in the range, not in the job's manifest: a new run without --resume is refused, not dropped.
      const again = await context(st);
      assert.throws(
        () => openFarmJob(options(st, out), again, 2),
        /an interrupted job .* \(3 frames done in its ranges\)/,
      );
      const resumed = await runRange(options(st, out), await context(st), second);
      assert.equal(resumed.resumedFrames, SEGMENT, 'the recorded segment is kept');
      await runRange(options(st, out), await context(st), first);
      assert.ok(existsSync(rangeDir(job.plan.dir, first)));
      await finishFarmJob(job, options(st, out), await context(st));
      assert.deepEqual(decodedFrameMd5s(out), decodedFrameMd5s(ref));
    });

    it('one long-lived engine runs the ranges last to first: fresh temporal parts per range give the same frames', () =>
      oneEngineLastToFirst(st, dir));

    it('without priming, a range starts from an empty temporal state and the frames differ (the test can fail)', async () => {
      const ref = join(dir, 'ref.mp4');
      if (!existsSync(ref)) await runEnhance(options(st, ref), await context(st));
      const out = join(dir, 'unprimed.mp4');
      await runAsRanges(st, out, 3, 5, false);
      assert.notDeepEqual(decodedFrameMd5s(out), decodedFrameMd5s(ref));
    });
  });
