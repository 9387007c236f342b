import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findFfmpegTools } from '../../../src/engine/ffmpeg/ffmpeg-tools';
import { probeMedia } from '../../../src/engine/ffmpeg/probe';
import { runEnhance } from '../../../src/engine/pipeline/pipeline';
import type { FrameStage, FrameUpscaler, PipelineFrame } from '../../../src/engine/pipeline/pipeline-types';
import { type BlendPath, GraphBlendStage } from '../../../src/engine/temporal/blend-graph';
import { createTemporal } from '../../../src/engine/temporal/create';
import { clipPath } from '../../../tools/models/calibrate';
import { clip, freshDir } from '../engine/helpers';
import { videoStreamHash } from '../resume/helpers';
import { ReplicateUpscaler } from './frames';

const FRAMES = 12;
const SCALE = 2;

/** Real hand-held footage: cockatoo.mp4 from frame 10 (the camera shakes and tilts), 96×54, no audio. */
function handheldClip(): string {
  const vf = 'select=gte(n\\,10),scale=96:54:flags=area,setpts=N/20/TB';
  return clip(`cockatoo-handheld-96x54-${FRAMES}.mp4`, [
    ...['-i', clipPath('cockatoo.mp4'), '-vf', vf, '-r', '20', '-frames:v', String(FRAMES), '-an'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '18', '-pix_fmt', 'yuv420p'],
  ]);
}

/** Pixel replication that answers a few milliseconds later, like a model in a worker or on a device. */
class SlowUpscaler implements FrameUpscaler {
  private readonly inner = new ReplicateUpscaler(SCALE);
  readonly scale = SCALE;
  constructor(private readonly log: string[]) {}
  async upscale(frame: Uint8Array, width: number, height: number): Promise<Buffer> {
    this.log.push('model start');
    await new Promise((r) => setTimeout(r, 5));
    this.log.push('model end');
    return this.inner.upscale(frame, width, height);
  }
}

/** The temporal stage, logging when each frame's per-output-pixel blend runs; `split` off = process() only. */
function logged(stage: FrameStage, log: string[], split: boolean): FrameStage {
  const process = (f: PipelineFrame) => {
    log.push(`blend ${f.index}`);
    return stage.process(f);
  };
  if (!split) return { name: stage.name, process };
  return {
    name: stage.name,
    process,
    split(f) {
      const rest = stage.split?.(f);
      assert.ok(rest, 'the stage splits its work');
      return () => {
        log.push(`blend ${f.index}`);
        return rest();
      };
    },
  };
}

/**
 * Blends of a frame N that started only once frame N+2 had gone to the model (model calls start in frame order):
 * by then N+1 was split and N+2 is in the model, so N's blend overlaps them instead of holding them up. (Whether a
 * blend starts before or after a model call ends depends on how long each takes; the order does not.)
 */
function overlapped(log: string[]): number {
  let started = 0;
  let count = 0;
  for (const e of log) {
    if (e === 'model start') started++;
    else if (e.startsWith('blend ') && started >= Number(e.slice(6)) + 3) count++;
  }
  return count;
}

describe('pipeline: a frame is blended while the model works on a later one, its motion plan made in a worker (issue 33)', function () {
  this.timeout(120000);
  let dir: string;
  let input: string;
  before(() => {
    dir = freshDir('huaju4k-overlap-');
    input = join(dir, 'in.mp4');
    copyFileSync(handheldClip(), input);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function run(name: string, split: boolean, blendPath: BlendPath = 'cpu') {
    const log: string[] = [];
    const settings = { strength: 'high', reuse: true, motion: 'flow', blendPath } as const;
    const parts = createTemporal(new SlowUpscaler(log), settings);
    assert.ok(parts.stage);
    const [stage] = parts.stages;
    const tools = findFfmpegTools();
    const output = join(dir, name);
    await runEnhance(
      { input, output, scale: SCALE, encoder: { codec: 'libx264' } },
      {
        tools,
        info: await probeMedia(tools.ffprobe, input),
        model: { id: 'replicate', path: '', scale: SCALE, sha256: '', executionProvider: 'cpu', precision: 'fp32' },
        upscaler: parts.upscaler,
        stages: [logged(stage, log, split)],
        temporal: parts,
        tile: 0,
        emit: () => {},
      },
    );
    const plans = parts.warps?.delivered ?? 0;
    assert.equal(parts.warps?.failed, undefined);
    if (stage instanceof GraphBlendStage) {
      assert.equal(stage.fallback, undefined, 'the graph ran');
      assert.equal(stage.graph.runs, parts.stage.blendedFrames, 'every blended frame carried out by the graph');
      await stage.graph.release();
    }
    const simdPlans = parts.stage.simd?.plans ?? 0;
    const pooled = parts.stage.simd?.pooled ?? 0;
    assert.equal(parts.stage.simd?.poolFailure, undefined);
    return { hash: videoStreamHash(output), log, blended: parts.stage.blendedFrames, plans, simdPlans, pooled };
  }

  it('the same bytes as blending before the next frame is upscaled, and the blends overlap the model', async () => {
    const serial = await run('serial.mp4', false);
    const split = await run('split.mp4', true);
    assert.equal(split.hash, serial.hash, 'same video stream');
    assert.ok(serial.blended >= FRAMES - 2, `blended ${serial.blended} frames`);
    assert.equal(split.blended, serial.blended);
    assert.equal(overlapped(serial.log), 0, 'without split() each frame is blended before the next goes to the model');
    // Frame N−1 is blended once N+1 is in the model: every frame but the last two (nothing is left to upscale then).
    assert.equal(overlapped(split.log), FRAMES - 2, split.log.join(', '));
    // Their motion plans came from the warp worker (process() plans in-thread: the serial run asked it for none).
    assert.equal(serial.plans, 0);
    assert.equal(split.plans, split.blended, 'every blended frame planned in the worker');
    // split() hands the per-output-pixel work to the blend pool's threads; process() blends in the pipeline's.
    assert.equal(split.pooled, split.blended, 'every split() blend carried out by the blend pool');
    assert.equal(serial.pooled, 0);
  });

  it("the blend graph (the GPU providers' path, here on the CPU provider) overlaps too, its plans from the worker, the same bytes as without split()", async () => {
    const serial = await run('graph-serial.mp4', false, 'graph');
    const split = await run('graph-split.mp4', true, 'graph');
    assert.equal(split.hash, serial.hash, 'same video stream');
    assert.ok(serial.blended >= FRAMES - 2, `blended ${serial.blended} frames`);
    assert.equal(split.blended, serial.blended);
    assert.equal(overlapped(split.log), FRAMES - 2, split.log.join(', '));
    assert.equal(serial.plans, 0);
    assert.equal(split.plans, split.blended, 'every blended frame planned in the worker');
    // process() plans every row at once in TypeScript; split() leaves the rows to the SIMD module.
    assert.equal(split.simdPlans, split.blended, 'every plan completed in the SIMD module');
  });
});
