import assert from 'node:assert/strict';
import { TileUpscaler } from '../../../src/engine/inference/upscaler';
import { type LoadedModel, loadModel } from '../../../src/engine/model/loader';
import type { PipelineFrame } from '../../../src/engine/pipeline/pipeline-types';
import {
  BlendGraph,
  blendGraphProviders,
  blendPathFor,
  GraphBlendStage,
} from '../../../src/engine/temporal/blend-graph';
import { blendPlannedOnCpu } from '../../../src/engine/temporal/blend-plan';
import { createTemporal } from '../../../src/engine/temporal/create';
import { MotionEstimator, type MotionMode } from '../../../src/engine/temporal/motion';
import { TemporalStage } from '../../../src/engine/temporal/temporal-stage';
import { clipPath, decodeRgbFrames } from '../../../tools/models/calibrate';
import { FAST_MODEL, psnr } from '../engine/helpers';

const W = 96;
const H = 54;
const S = 4;
const FRAMES = 10;

/** Real hand-held footage (cockatoo.mp4 from frame 10: the camera shakes and tilts) at W×H, with the real model's outputs. */
async function realFrames(model: LoadedModel): Promise<PipelineFrame[]> {
  const vf = `select=gte(n\\,10),scale=${W}:${H}:flags=area`;
  const inputs = decodeRgbFrames(clipPath('cockatoo.mp4'), vf, W, H, FRAMES);
  const up = new TileUpscaler(model, { tile: 0, pad: 12 });
  const frames: PipelineFrame[] = [];
  for (const [index, input] of inputs.entries()) {
    const data = Buffer.from(input);
    const output = Buffer.from(await up.upscale(data, W, H));
    frames.push({
      index,
      input: data,
      inputSize: { width: W, height: H },
      output,
      outputSize: { width: W * S, height: H * S },
    });
  }
  return frames;
}

function differing(a: Uint8Array, b: Uint8Array): { bytes: number; max: number } {
  let bytes = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d !== 0) bytes++;
    if (d > max) max = d;
  }
  return { bytes, max };
}

/**
 * Plans each frame's blend with a real stage and carries it out both ways; asserts per frame that the graph's bytes
 * are the typed arrays' (≤ 1 level, ≥ 80 dB) and that the blend changed the frame. Returns how many frames were
 * blended and how many blocks were read from shifted pasts.
 */
async function compareOnPlans(frames: PipelineFrame[], motion: MotionMode, graph: BlendGraph) {
  const make = () =>
    new TemporalStage({ strength: 'high', motion: motion === 'flow' ? new MotionEstimator() : undefined });
  const stage = make();
  // process() plans each row as it blends it: the same bytes as the whole plan carried out.
  const rowByRow = make();
  let planned = 0;
  let shiftedBlocks = 0;
  for (const f of frames) {
    const p = stage.plan(f);
    const processed = rowByRow.process(f).output;
    if (p instanceof Uint8Array) continue;
    planned++;
    for (const [k, shift] of (p.plan.shifts ?? []).entries())
      for (let i = 0; i < shift.length; i++) if (shift[i] !== 0 && p.plan.weights[k][i] > 0) shiftedBlocks++;
    const cpu = blendPlannedOnCpu(f.output, p);
    assert.ok(Buffer.from(cpu).equals(processed), `frame ${f.index}: process() = plan() carried out`);
    const fromGraph = await graph.run(f.output, p);
    const d = differing(fromGraph, cpu);
    assert.ok(d.max <= 1 && d.bytes <= cpu.length * 1e-4, `frame ${f.index}: ${d.bytes} bytes differ, max ${d.max}`);
    assert.ok(psnr(fromGraph, cpu) >= 80, `frame ${f.index}: ${psnr(fromGraph, cpu).toFixed(1)} dB`);
    // The blend changed the frame (a graph that returned the model's bytes would fail above).
    assert.ok(psnr(cpu, f.output) < 60, `frame ${f.index}: the blend is ${psnr(cpu, f.output).toFixed(1)} dB from raw`);
  }
  return { planned, shiftedBlocks };
}

describe('temporal: where the blend runs', () => {
  it('runs on the GPU providers, not on the CPU (there the typed arrays measured faster)', () => {
    for (const p of ['cuda', 'tensorrt', 'dml', 'coreml', 'webgpu']) assert.equal(blendPathFor(p), 'graph', p);
    assert.equal(blendPathFor('cpu'), 'cpu');
    assert.equal(blendPathFor(undefined), 'cpu');
    assert.deepEqual(blendGraphProviders('tensorrt'), ['cuda']);
    assert.deepEqual(blendGraphProviders('dml'), ['dml']);
  });
});

describe('temporal: the blend as an ONNX graph (real ORT, CPU provider)', function () {
  this.timeout(240000);
  let frames: PipelineFrame[];
  let graph: BlendGraph;
  before(async () => {
    const model = await loadModel(FAST_MODEL, { intraOpNumThreads: 1 });
    frames = await realFrames(model);
    await model.session.release();
    graph = new BlendGraph(['cpu'], 1);
  });
  after(() => graph.release());

  for (const motion of ['flow', 'off'] as MotionMode[]) {
    it(`carries out the same plans as the typed arrays on real hand-held footage (--motion ${motion}): ≤ 1 level, ≥ 80 dB`, async () => {
      const { planned, shiftedBlocks } = await compareOnPlans(frames, motion, graph);
      assert.equal(planned, FRAMES - 1, 'every frame after the first was blended');
      if (motion === 'flow') assert.ok(shiftedBlocks > 100, `${shiftedBlocks} blocks read from shifted pasts`);
    });
  }

  it('the stage with the graph path gives the typed-array stage output, and a resume primed from the frames before matches', async () => {
    const make = (blendPath: 'cpu' | 'graph') =>
      createTemporal({ scale: S, upscale: async () => Buffer.alloc(0) }, { strength: 'high', reuse: false, blendPath });
    const cpu = make('cpu');
    const viaGraph = make('graph');
    const stage = viaGraph.stages[0];
    assert.ok(stage instanceof GraphBlendStage);
    const expected: Uint8Array[] = [];
    for (const f of frames) {
      const a = cpu.stages[0].process(f) as PipelineFrame;
      const b = await stage.process(f);
      assert.ok(psnr(b.output, a.output) >= 80, `frame ${f.index}`);
      expected.push(b.output);
    }
    assert.equal(stage.fallback, undefined, 'the graph ran');
    for (const resume of [3, 7]) {
      const again = make('graph');
      again.stage?.prime(frames.slice(0, resume));
      for (let i = resume; i < frames.length; i++) {
        const out = (await again.stages[0].process(frames[i])).output;
        assert.ok(Buffer.from(out).equals(expected[i]), `resume at ${resume}, frame ${i}: byte-identical`);
      }
    }
  });

  it('a provider the graph cannot open: the stage says why and goes on with the typed arrays', async () => {
    const fallback = new GraphBlendStage(
      new TemporalStage({ strength: 'medium' }),
      new BlendGraph(['no-such-provider']),
    );
    const reference = new TemporalStage({ strength: 'medium' });
    for (const f of frames.slice(0, 4)) {
      const out = await fallback.process(f);
      assert.ok(Buffer.from(out.output).equals(reference.process(f).output), `frame ${f.index}`);
    }
    assert.match(fallback.fallback ?? '', /provider/i);
  });
});
