import { ExitCode } from '../../protocol/engine-events';
import { diffParams, inputIdentity } from '../checkpoint/fingerprint';
import { framesDone, type InputIdentity, type JobManifest, readManifest } from '../checkpoint/manifest';
import { openJob } from '../checkpoint/open-job';
import { unlockWorkDir } from '../checkpoint/workdir';
import { EngineError } from '../errors';
import { type JobPlan, planJob } from '../pipeline/job-plan';
import { frameLoopsFor, openStreams } from '../pipeline/pipeline';
import type { EnhanceContext, EnhanceOptions } from '../pipeline/pipeline-types';
import type { RangeSpec } from './farm-args';
import { type FrameRange, rangeDir, rangeName, rangeOf } from './ranges';

export interface RangeResult {
  /** Frames the range holds now, and how many of them were already there (a resumed range). */
  frames: number;
  resumedFrames: number;
}

/**
 * Runs one range of a farm job: the same pipeline as a local run (job plan, decoder, model, temporal stage, segment
 * writer), started at the range's first frame with the temporal/reuse state primed from the frames before it, as a
 * resume primes it, and stopped at its last. Its segments go into the range's own checkpoint folder; a range that
 * was cut off goes on from its last complete segment. Refused when this host's settings would make other pixels than
 * the job's (another model, another engine's parameters) or its copy of the input differs.
 */
export async function runRange(opts: EnhanceOptions, ctx: EnhanceContext, spec: RangeSpec): Promise<RangeResult> {
  const plan = planJob(opts, ctx);
  const range = rangeOf(spec, plan.segmentFrames, plan.total);
  const input = checkAgainstJob(plan, ctx.info.path, range);
  const dir = rangeDir(plan.dir, range);
  const { manifest } = openJob({
    dir,
    output: plan.output,
    input,
    params: plan.params,
    segmentFrames: plan.segmentFrames,
    totalFrames: range.endFrame - range.startFrame,
    args: opts.argv ?? [],
    resume: true,
  });
  const resumedFrames = framesDone(manifest);
  try {
    if (!manifest.decodedAll) await runFrames(plan, manifest, dir, range, opts, ctx);
  } finally {
    unlockWorkDir(dir);
  }
  return { frames: framesDone(manifest), resumedFrames };
}

async function runFrames(
  plan: JobPlan,
  manifest: JobManifest,
  dir: string,
  range: FrameRange,
  opts: EnhanceOptions,
  ctx: EnhanceContext,
): Promise<void> {
  const resumeFrom = range.startFrame + framesDone(manifest);
  const end = range.last ? opts.maxFrames : range.endFrame;
  const rangePlan: JobPlan = { ...plan, dir, total: range.endFrame };
  const streams = openStreams(rangePlan, manifest, resumeFrom, { ...opts, maxFrames: end }, ctx);
  const { writer } = streams;
  const { loops } = frameLoopsFor({
    ...{ plan: rangePlan, manifest, streams, resumeFrom, opts, ctx },
    counted: range.endFrame - range.startFrame,
  });
  try {
    await loops.run();
  } catch (err) {
    await writer.discardPartial();
    throw err;
  }
}

/**
 * The job's own checkpoint (written by the coordinator) must exist, with the pixel parameters this host computes
 * and the same input content; the range's checkpoint then names the input as the job does (another host may see it
 * under another path).
 */
function checkAgainstJob(plan: JobPlan, inputPath: string, range: FrameRange): InputIdentity {
  const job = readManifest(plan.dir);
  const what = `range ${rangeName(range)} of ${plan.output}`;
  if (!job) {
    throw new EngineError(
      ExitCode.badInput,
      'farm-no-job',
      `${what}: no job checkpoint in ${plan.dir} on this host`,
      'start the job with huaju4k enhance --workers/--farm, and check that this host sees the same work folder (--path-map)',
    );
  }
  const diff = diffParams(job.params, plan.params);
  if (diff.length > 0) {
    throw new EngineError(
      ExitCode.badInput,
      'farm-params-differ',
      `${what}: this host would make other pixels than the job (${diff.join(', ')})`,
      'run the same huaju4k version and models on every host',
    );
  }
  const local = inputIdentity(inputPath);
  if (local.sizeBytes !== job.input.sizeBytes || local.fingerprint !== job.input.fingerprint) {
    throw new EngineError(
      ExitCode.badInput,
      'farm-input-differs',
      `${what}: the input this host reads (${inputPath}) is not the job's (${job.input.path})`,
      'point --path-map at the same shared file',
    );
  }
  return { ...local, path: job.input.path, mtimeMs: job.input.mtimeMs };
}
