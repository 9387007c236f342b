import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode } from '../../protocol/engine-events';
import { startJobAudio } from '../audio/job-audio';
import { inputIdentity } from '../checkpoint/fingerprint';
import type { JobManifest } from '../checkpoint/manifest';
import { openJob } from '../checkpoint/open-job';
import { unlockWorkDir } from '../checkpoint/workdir';
import { EngineError } from '../errors';
import { type JobPlan, planJob } from '../pipeline/job-plan';
import { joinVerified } from '../pipeline/pipeline';
import type { EnhanceContext, EnhanceOptions } from '../pipeline/pipeline-types';
import { collectRanges, framesInRanges } from './collect-ranges';
import { type FrameRange, planRanges, rangeOf, rangesDir } from './ranges';

export interface FarmJob {
  plan: JobPlan;
  manifest: JobManifest;
  ranges: FrameRange[];
}

const PLAN_FILE = 'plan.json';

/**
 * The coordinator's side of a farm job: the job's checkpoint opened (or continued, `opts.resume`) as a local run
 * opens it — the ranges check their parameters against it — and the job cut into `count` ranges. A continued job
 * keeps the cut it started with (ranges/plan.json), so every range finds its own checkpoint again.
 */
export function openFarmJob(opts: EnhanceOptions, ctx: EnhanceContext, count: number): FarmJob {
  const plan = planJob(opts, ctx);
  // The job's own manifest lists no segment until the join: its ranges hold the work a new run must not drop.
  const kept = opts.resume ? 0 : framesInRanges(plan.dir);
  if (kept > 0) {
    throw new EngineError(
      ExitCode.badInput,
      'job-exists',
      `an interrupted job for ${plan.output} is in ${plan.dir} (${kept} frames done in its ranges)`,
      `continue it with --resume (or: huaju4k resume "${plan.output}"), or delete that folder to start over`,
    );
  }
  const { manifest } = openJob({
    dir: plan.dir,
    output: plan.output,
    input: inputIdentity(ctx.info.path),
    params: plan.params,
    segmentFrames: plan.segmentFrames,
    totalFrames: plan.total,
    args: opts.argv ?? [],
    resume: !!opts.resume,
  });
  const planPath = join(rangesDir(plan.dir), PLAN_FILE);
  let ranges: FrameRange[];
  if (existsSync(planPath)) {
    const cut = JSON.parse(readFileSync(planPath, 'utf8')) as number[];
    ranges = cut.slice(0, -1).map((first, i) => {
      const spec = { firstSegment: first, endSegment: cut[i + 1], last: i === cut.length - 2 };
      return rangeOf(spec, plan.segmentFrames, plan.total);
    });
  } else {
    ranges = planRanges(plan.total, plan.segmentFrames, count);
    mkdirSync(rangesDir(plan.dir), { recursive: true });
    writeFileSync(planPath, JSON.stringify([...ranges.map((r) => r.firstSegment), ranges.at(-1)?.endSegment ?? 0]));
  }
  return { plan, manifest, ranges };
}

/**
 * Once every range is finished: their segments into the job's checkpoint, then the local run's join (audio,
 * subtitles, VFR times), its frame-count check and the rename to the output; the work folder goes.
 */
export async function finishFarmJob(job: FarmJob, opts: EnhanceOptions, ctx: EnhanceContext): Promise<void> {
  const { plan, manifest, ranges } = job;
  collectRanges(plan.dir, manifest, ranges);
  await rm(plan.partial, { force: true });
  try {
    // The job's audio treatment (--audio clean|stage) is measured once, here, and kept in the job's checkpoint.
    const { tools, info, emit } = ctx;
    const audio = await startJobAudio({ mode: opts.audio, ffmpeg: tools.ffmpeg, info, dir: plan.dir, manifest, emit });
    await joinVerified(plan, manifest, opts, ctx, audio);
  } catch (err) {
    await rm(plan.partial, { force: true });
    unlockWorkDir(plan.dir);
    throw err;
  }
  await rename(plan.partial, plan.output);
  rmSync(plan.dir, { recursive: true, force: true });
}
