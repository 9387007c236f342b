/**
 * `npx tsx tools/bench/temporal/unchanged.ts <clip> [--frames 12] [--strength medium]`
 *
 * What the stage's skip of unchanged blocks saves (issue 33, temporal-stage.ts sameDepth()): the reuse wrapper
 * around the built-in nearest ×4 (`--model null`'s) on the clip's frames, and two stages on its outputs, one told
 * which tiles stayed unchanged and one not. Per --motion off / flow: the reuse ratio, the blocks each blends, the
 * time each spends carrying its plans out, and a check that their outputs are the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { NULL_MODEL_SCALE, nullTileModel } from '../../../src/engine/inference/null-model';
import type { FrameUpscaler, PipelineFrame } from '../../../src/engine/pipeline/pipeline-types';
import { blendPlannedOnCpu, type PlannedBlend } from '../../../src/engine/temporal/blend-plan';
import { MotionEstimator } from '../../../src/engine/temporal/motion';
import { ReuseUpscaler } from '../../../src/engine/temporal/reuse-upscaler';
import type { TemporalStrength } from '../../../src/engine/temporal/strength';
import { TemporalStage } from '../../../src/engine/temporal/temporal-stage';

const S = NULL_MODEL_SCALE;

function frames(clip: string, count: number): { width: number; height: number; frames: Buffer[] } {
  const probe = execFileSync(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', clip],
    {
      encoding: 'utf8',
    },
  );
  const [width, height] = probe.trim().split(',').map(Number);
  const raw = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', clip, '-frames:v', String(count), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    {
      maxBuffer: 1 << 30,
    },
  );
  const bytes = width * height * 3;
  return {
    width,
    height,
    frames: Array.from({ length: raw.length / bytes }, (_, i) => raw.subarray(i * bytes, (i + 1) * bytes)),
  };
}

function nearest(): FrameUpscaler {
  const model = nullTileModel(S);
  return {
    scale: S,
    async upscale(frame, width, height) {
      const out = Buffer.allocUnsafeSlow(width * height * S * S * 3);
      await model.runTile(frame, width, height, out);
      return out;
    },
  };
}

/** Carries a stage's plan out, timed; its blocks. */
function carryOut(planned: Uint8Array | PlannedBlend, raw: Uint8Array) {
  const t = performance.now();
  const out = planned instanceof Uint8Array ? planned : blendPlannedOnCpu(raw, planned);
  return { out, ms: performance.now() - t, blocks: planned instanceof Uint8Array ? 0 : planned.plan.blocks };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { frames: { type: 'string', default: '12' }, strength: { type: 'string', default: 'medium' } },
  });
  const clip = positionals[0];
  if (!clip) throw new Error('usage: unchanged.ts <clip> [--frames n] [--strength medium]');
  const { width, height, frames: list } = frames(clip, Number(values.frames));
  const strength = values.strength as TemporalStrength;
  for (const motion of [false, true]) {
    const estimator = motion ? new MotionEstimator() : undefined;
    const reuse = new ReuseUpscaler(nearest(), {}, estimator);
    const skipping = new TemporalStage({ strength, motion: estimator, unchanged: (o) => reuse.unchangedTiles(o) });
    const blending = new TemporalStage({ strength, motion: estimator });
    const sum = { skipBlocks: 0, blendBlocks: 0, skipMs: 0, blendMs: 0 };
    for (let index = 0; index < list.length; index++) {
      const output = await reuse.upscale(list[index], width, height);
      const frame: PipelineFrame = {
        index,
        input: Buffer.from(list[index]),
        inputSize: { width, height },
        output,
        outputSize: { width: width * S, height: height * S },
      };
      const a = carryOut(skipping.plan(frame), output);
      const b = carryOut(blending.plan(frame), output);
      if (!Buffer.from(a.out).equals(Buffer.from(b.out))) throw new Error(`frame ${index}: the outputs differ`);
      sum.skipBlocks += a.blocks;
      sum.blendBlocks += b.blocks;
      sum.skipMs += a.ms;
      sum.blendMs += b.ms;
    }
    console.log(
      `--motion ${motion ? 'flow' : 'off'}: reuse ${reuse.reuseRatio.toFixed(2)}; blocks blended ${sum.skipBlocks} ` +
        `instead of ${sum.blendBlocks} (${((100 * sum.skipBlocks) / Math.max(1, sum.blendBlocks)).toFixed(0)} %); ` +
        `carrying out ${sum.skipMs.toFixed(0)} ms instead of ${sum.blendMs.toFixed(0)} ms; outputs identical`,
    );
  }
}

void main();
