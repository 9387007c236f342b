import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readManifest } from '../../../src/engine/checkpoint/manifest';
import { CancelledError } from '../../../src/engine/errors';
import { findFfmpegTools } from '../../../src/engine/ffmpeg/ffmpeg-tools';
import { probeMedia } from '../../../src/engine/ffmpeg/probe';
import { TileUpscaler } from '../../../src/engine/inference/upscaler';
import { type LoadedModel, loadModel } from '../../../src/engine/model/loader';
import { runEnhance } from '../../../src/engine/pipeline/pipeline';
import type { EnhanceContext } from '../../../src/engine/pipeline/pipeline-types';
import { type BlendPath, GraphBlendStage } from '../../../src/engine/temporal/blend-graph';
import { createTemporal, type TemporalSettings } from '../../../src/engine/temporal/create';
import { clipPath } from '../../../tools/models/calibrate';
import { basicClip, clip, FAST_MODEL, freshDir } from '../engine/helpers';
import { videoStreamHash, workFolder } from './helpers';

const FRAMES = 24;
const SEGMENT = 4;

/** Real hand-held footage: cockatoo.mp4 from frame 10 (the camera shakes and tilts), 96×54, no audio. */
function handheldClip(frames: number): string {
  const vf = 'select=gte(n\\,10),scale=96:54:flags=area,setpts=N/20/TB';
  return clip(`cockatoo-handheld-96x54-${frames}.mp4`, [
    ...['-i', clipPath('cockatoo.mp4'), '-vf', vf, '-r', '20', '-frames:v', String(frames), '-an'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '18', '-pix_fmt', 'yuv420p'],
  ]);
}

const CASES: { name: string; clip: () => string; blendPath: BlendPath; flowFinestPixels?: number }[] = [
  { name: 'testsrc2, blend on typed arrays', clip: () => basicClip(FRAMES), blendPath: 'cpu' },
  {
    name: 'real hand-held footage, blend graph on the CPU provider',
    clip: () => handheldClip(FRAMES),
    blendPath: 'graph',
  },
  {
    // As the engine's flows of a 960×540 input: refined down to a quarter-size level, upsampled from there.
    name: 'real hand-held footage, flows refined at a quarter-size level (issue 33), blend on typed arrays',
    clip: () => handheldClip(FRAMES),
    blendPath: 'cpu',
    flowFinestPixels: (96 * 54) / 4,
  },
];

const SETTINGS: TemporalSettings = { strength: 'high', reuse: true, reuseOptions: { tile: 8, refreshEvery: 6 } };

for (const c of CASES)
  describe(`resume: temporal state (tile reuse + temporal blend) is primed from the frames before the resume point (${c.name})`, function () {
    this.timeout(300000);
    let model: LoadedModel;
    let dir: string;
    let input: string;
    before(async () => {
      model = await loadModel(FAST_MODEL, { intraOpNumThreads: 1 });
      dir = freshDir('huaju4k-temporal-resume-');
      input = join(dir, 'in.mp4');
      copyFileSync(c.clip(), input);
    });

    const parts = () =>
      createTemporal(new TileUpscaler(model, { tile: 0, pad: 12 }), {
        ...SETTINGS,
        blendPath: c.blendPath,
        flowFinestPixels: c.flowFinestPixels,
      });

    /** One run; `stopAfterSegment` aborts it (like SIGTERM) once that segment is recorded. */
    async function run(output: string, o: { resume?: boolean; stopAfterSegment?: number; prime?: boolean } = {}) {
      const tools = findFfmpegTools();
      const info = await probeMedia(tools.ffprobe, input);
      const p = parts();
      const abort = new AbortController();
      const ctx: EnhanceContext = {
        tools,
        info,
        model: { ...model, executionProvider: 'cpu' },
        upscaler: p.upscaler,
        stages: p.stages,
        temporal: o.prime === false ? undefined : p,
        tile: 0,
        emit: (e) => {
          if (e.type === 'segment' && e.index === o.stopAfterSegment) abort.abort('SIGTERM');
        },
      };
      const result = await runEnhance(
        {
          input,
          output,
          scale: 4,
          encoder: { codec: 'libx264' },
          segmentFrames: SEGMENT,
          resume: o.resume,
          signal: abort.signal,
          pixelSettings: { temporal: 'high', reuse: true },
        },
        ctx,
      );
      const stage = p.stages[0];
      if (c.blendPath === 'graph')
        assert.ok(
          stage instanceof GraphBlendStage && stage.fallback === undefined && stage.graph.runs > 0,
          'graph ran',
        );
      return result;
    }

    it('interrupted at several segments, resumed: byte-identical to the uninterrupted run; unprimed differs', async () => {
      const ref = join(dir, 'ref.mp4');
      await run(ref);
      const refHash = videoStreamHash(ref);
      for (const stopAt of [1, 3]) {
        const out = join(dir, `stop-${stopAt}.mp4`);
        await assert.rejects(run(out, { stopAfterSegment: stopAt }), CancelledError);
        const m = readManifest(workFolder(out));
        assert.ok(m && m.segments.length >= stopAt + 1, 'segments kept');
        await run(out, { resume: true });
        assert.equal(videoStreamHash(out), refHash, `resumed after segment ${stopAt}`);
      }
      // Without priming the state restarts empty at the resume point: the output differs, so priming is what makes
      // the resumed run identical (and this test can fail).
      const out = join(dir, 'unprimed.mp4');
      await assert.rejects(run(out, { stopAfterSegment: 2 }), CancelledError);
      await run(out, { resume: true, prime: false });
      assert.ok(existsSync(out));
      assert.notEqual(videoStreamHash(out), refHash, 'unprimed resume should differ');
    });
  });
