import { rmSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { type DoneEvent, ExitCode } from '../../protocol/engine-events';
import { AUDIO_RATE } from '../audio/audio-levels';
import type { AudioTreatment } from '../audio/audio-treatment';
import { audioReport, startJobAudio } from '../audio/job-audio';
import { inputIdentity } from '../checkpoint/fingerprint';
import { joinSegments, videoSpanS } from '../checkpoint/join';
import { framesDone, type JobManifest } from '../checkpoint/manifest';
import { openJob } from '../checkpoint/open-job';
import { SegmentWriter } from '../checkpoint/segment-writer';
import { dirBytes, unlockWorkDir } from '../checkpoint/workdir';
import { children } from '../children';
import { checkDisk, freeBytes, precheckDisk } from '../disk/guard';
import { segmentDiskGuard } from '../disk/segment-guard';
import { CancelledError, EngineError } from '../errors';
import type { Emit } from '../events';
import { FrameDecoder } from '../ffmpeg/decoder';
import { outputFrameRate } from '../ffmpeg/encoder';
import { type MediaInfo, toProbeInfo } from '../ffmpeg/probe';
import { planStreams } from '../ffmpeg/stream-map';
import { countVideoPackets } from '../ffmpeg/verify';
import { primeStartFor } from '../temporal/resume-prime';
import { FrameLoops } from './frame-loops';
import { type JobPlan, planJob } from './job-plan';
import type { EnhanceContext, EnhanceOptions, FrameStage, FrameUpscaler } from './pipeline-types';
import { PreviewEmitter } from './preview-emitter';
import { RunTelemetry } from './run-telemetry';

/**
 * decode → ring → model (tiles) → stages → ring → segment encoders, all in memory (frame-loops.ts). The video goes
 * into fixed-size segments in a work folder beside the output, each recorded in a manifest once verified; the end
 * joins them without re-encoding, adds the source's audio/subtitles, verifies the frame count, renames to the
 * output and removes the folder. Any failure (or the abort signal) stops every loop, kills the ffmpeg children and
 * drops the open segment; the recorded segments stay and `resume` continues from the first missing frame.
 */
export async function runEnhance(opts: EnhanceOptions, ctx: EnhanceContext): Promise<DoneEvent> {
  const plan = planJob(opts, ctx);
  const { manifest, resumeFrom } = openCheckpoint(plan, opts, ctx);
  emitStart(plan, resumeFrom, ctx);
  const { info, tools, emit } = ctx;
  const { dir, output, partial } = plan;
  const streams = openStreams(plan, manifest, resumeFrom, opts, ctx);
  const { writer } = streams;
  // Stopped with the job (a cancel, or the frames failing): its measurement is then killed with the other children.
  const stopAudio = new AbortController();
  opts.signal?.addEventListener('abort', () => stopAudio.abort(), { once: true });
  const audio = startJobAudio({
    ...{ mode: opts.audio, ffmpeg: tools.ffmpeg, info, dir, manifest, emit, signal: stopAudio.signal },
    durationS: trialSpanS(plan, opts, info),
  });
  const previews = opts.previews
    ? new PreviewEmitter(tools.ffmpeg, emit, () => loops.failed, opts.onPreview)
    : undefined;
  const { loops, telemetry } = frameLoopsFor({
    ...{ plan, manifest, streams, resumeFrom, opts, ctx, previews },
    counted: plan.total,
  });
  await rm(partial, { force: true });
  let frames = 0;
  let treated: AudioTreatment | undefined;
  try {
    await loops.run();
    await previews?.close();
    frames = framesDone(manifest);
    treated = await audio;
    await joinVerified(plan, manifest, opts, ctx, treated);
    await rename(partial, output);
  } catch (err) {
    // A cancel during the join kills its ffmpeg: report the cancel, not the join's failure.
    const failure = opts.signal?.aborted
      ? new CancelledError(String(opts.signal.reason ?? 'signal'))
      : err instanceof Error
        ? err
        : new Error(String(err));
    stopAudio.abort();
    loops.fail(failure);
    await cleanUpAfterFailure(plan, manifest, writer, emit);
    throw failure;
  }
  rmSync(dir, { recursive: true, force: true });
  return emitDone(plan, frames, telemetry, ctx, treated);
}

/**
 * The segment writer (encoder side) and the decoder, positioned to prime the temporal state before `resumeFrom`.
 * A farm range (farm/run-range.ts) passes its own folder as `plan.dir` and its end as `opts.maxFrames`.
 */
export function openStreams(
  plan: JobPlan,
  manifest: JobManifest,
  resumeFrom: number,
  opts: EnhanceOptions,
  ctx: EnhanceContext,
): { writer: SegmentWriter; decoder: FrameDecoder | undefined; primeAt: number } {
  const { info, tools, emit } = ctx;
  const { dir } = plan;
  const writer = new SegmentWriter({
    dir,
    manifest,
    ffprobe: tools.ffprobe,
    emit,
    encoder: {
      ffmpeg: tools.ffmpeg,
      frameSize: plan.outSize,
      target: plan.target,
      picture: plan.sizes.picture,
      fpsRational: outputFrameRate(info).rational,
      timeBase: plan.timeBase,
      settings: plan.encoder,
    },
  });
  const primeAt = ctx.temporal && resumeFrom > 0 ? primeStartFor(resumeFrom, ctx.temporal) : resumeFrom;
  const decoder = manifest.decodedAll
    ? undefined
    : new FrameDecoder({
        ffmpeg: tools.ffmpeg,
        info,
        startFrame: primeAt,
        size: plan.sizes.sameSize ? plan.inSize : undefined,
        timestamps: !!plan.timeBase,
        maxFrames: opts.maxFrames !== undefined ? Math.max(0, opts.maxFrames - primeAt) : undefined,
      });
  return { writer, decoder, primeAt };
}

/**
 * What each frame goes through: the temporal parts' upscaler (tile reuse around the model) and stage when the run has
 * them, else the model alone; `stages` given by a caller replace the temporal stage.
 */
export interface LoopsSetup {
  /** The run's plan; a farm range passes its own folder as `dir` and its end frame as `total`. */
  plan: JobPlan;
  manifest: JobManifest;
  streams: ReturnType<typeof openStreams>;
  resumeFrom: number;
  /** Frames the progress counts to (the job's, or the range's length). */
  counted: number;
  opts: EnhanceOptions;
  ctx: EnhanceContext;
  previews?: PreviewEmitter;
}

/** The frame loops of a run (a whole job or a farm range) and the telemetry that reports them. */
export function frameLoopsFor(s: LoopsSetup): { loops: FrameLoops; telemetry: RunTelemetry } {
  const { plan, manifest, streams, ctx, opts } = s;
  const { writer, decoder, primeAt } = streams;
  const { upscaler, stages } = frameParts(ctx);
  const { emit } = ctx;
  const telemetry = new RunTelemetry({
    emit,
    dir: plan.dir,
    total: s.counted,
    upscaler,
    hasStages: stages.length > 0,
    frameBuffer: () => ({ used: loops.usedBytes, budget: plan.memory.budgetBytes }),
    gpu: ctx.gpu,
  });
  const loops: FrameLoops = new FrameLoops({
    decoder,
    upscaler,
    stages,
    writer,
    inSize: plan.inSize,
    outSize: plan.outSize,
    ringBytes: { in: plan.memory.inBytes, out: plan.memory.outBytes },
    total: plan.total,
    resumeFrom: s.resumeFrom,
    primeAt,
    temporal: ctx.temporal,
    inputPath: ctx.info.path,
    beforeEncode: segmentDiskGuard({ ...plan, manifest, openSegment: () => writer.partialPath }),
    telemetry,
    previews: s.previews,
    emit,
    signal: opts.signal,
  });
  return { loops, telemetry };
}

function frameParts(ctx: EnhanceContext): { upscaler: FrameUpscaler; stages: FrameStage[] } {
  const { temporal } = ctx;
  return {
    upscaler: temporal?.upscaler ?? ctx.upscaler,
    stages: ctx.stages ?? (temporal?.stage ? [temporal.stage] : []),
  };
}

/** Opens (or continues) the checkpoint and checks the disk for the work left; warns about what it changed. */
function openCheckpoint(plan: JobPlan, opts: EnhanceOptions, ctx: EnhanceContext) {
  const { dir, total, estimate, limits } = plan;
  const job = openJob({
    dir,
    output: plan.output,
    input: inputIdentity(ctx.info.path),
    params: plan.params,
    segmentFrames: plan.segmentFrames,
    totalFrames: total,
    args: opts.argv ?? [],
    resume: !!opts.resume,
  });
  const { manifest } = job;
  const resumeFrom = framesDone(manifest);
  if (opts.resume && !job.resumed) {
    ctx.emit({
      type: 'warning',
      code: 'nothing-to-resume',
      message: `no checkpoint in ${dir}; starting from the beginning`,
    });
  }
  if (job.dropped) {
    const { count, file, why } = job.dropped;
    ctx.emit({
      type: 'warning',
      code: 'segments-dropped',
      message: `${file} in the checkpoint is ${why}: it and the ${count - 1} segment(s) after it are redone`,
    });
  }
  const held = dirBytes(dir);
  const left = Math.max(0, total - resumeFrom) * estimate.bytesPerFrame;
  try {
    precheckDisk(estimate, left + held + left, held, freeBytes(dir), limits, dir);
  } catch (err) {
    releaseJob(dir, manifest);
    throw err;
  }
  return { manifest, resumeFrom };
}

/** `start`, then the warnings known before the work: streams the join changes, interlacing, variable frame rate. */
export function emitStart(plan: JobPlan, resumeFrom: number, ctx: EnhanceContext): void {
  const { info, model, emit } = ctx;
  const { sizes } = plan;
  emit({
    type: 'start',
    v: 1,
    input: info.path,
    output: plan.output,
    probe: toProbeInfo(info),
    model: { id: model.id, file: model.path, scale: ctx.upscaler.scale, sha256: model.sha256 },
    executionProvider: model.executionProvider,
    precision: model.precision,
    tile: ctx.tile,
    target: plan.target,
    plan: { modelInput: plan.inSize, modelOutput: plan.outSize, picture: sizes.picture, sameSize: sizes.sameSize },
    totalFrames: plan.total,
    encoder: plan.encoder.codec,
    resumeFromFrame: resumeFrom,
    workDir: plan.dir,
  });
  for (const w of planStreams(info, plan.output).warnings) emit({ type: 'warning', ...w });
  if (info.fieldOrder && !['progressive', 'unknown'].includes(info.fieldOrder)) {
    emit({
      type: 'warning',
      code: 'interlaced-source',
      message: `interlaced source (${info.fieldOrder}): frames are upscaled as stored, combing included; deinterlace first (ffmpeg -vf bwdif) for a clean result`,
    });
  }
  if (info.vfr) {
    emit({
      type: 'warning',
      code: 'vfr-source',
      message: 'variable frame rate source: every frame is kept at its own time',
    });
  }
}

/**
 * The seconds of sound a `--max-frames` trial encodes (its frames at the output rate, from the file's start, as the
 * join cuts it): all the audio measurement needs to read. Undefined for a whole job.
 */
function trialSpanS(plan: JobPlan, opts: EnhanceOptions, info: MediaInfo): number | undefined {
  if (opts.maxFrames === undefined || info.fps <= 0) return undefined;
  return plan.total / outputFrameRate(info).fps + info.videoStartS;
}

/** Joins the recorded segments (with audio/subtitles) into the partial file and checks its frame count. */
export async function joinVerified(
  plan: JobPlan,
  manifest: JobManifest,
  opts: EnhanceOptions,
  ctx: EnhanceContext,
  audio: AudioTreatment | undefined,
) {
  const { dir, partial, limits } = plan;
  const { info, tools } = ctx;
  const frames = framesDone(manifest);
  if (frames === 0) {
    throw new EngineError(ExitCode.badInput, 'no-frames', `no video frames could be decoded from ${info.path}`);
  }
  // The join writes as much again as the segments hold: check the space for it first.
  const stop = checkDisk(dirBytes(dir), freeBytes(dir), dirBytes(dir), limits, true, dir);
  if (stop) throw stop;
  await joinSegments({
    ffmpeg: tools.ffmpeg,
    dir,
    manifest,
    source: info,
    output: partial,
    durationS: opts.maxFrames !== undefined && info.fps > 0 ? videoSpanS(manifest, info) : undefined,
    audio: audio && { stream: audio.stream, filter: audio.filter, rate: AUDIO_RATE },
  });
  const packets = await countVideoPackets(tools.ffprobe, partial);
  if (packets !== frames) {
    throw new EngineError(
      ExitCode.failure,
      'output-incomplete',
      `output check failed: ${packets} video frames in ${partial}, ${frames} expected; the segments are kept`,
      'resume with --resume to retry the join',
    );
  }
}

/** After a failure or cancel: children reaped, no partial files, the checkpoint kept (and said so) or removed. */
async function cleanUpAfterFailure(plan: JobPlan, manifest: JobManifest, writer: SegmentWriter, emit: Emit) {
  children.killAll();
  await children.reaped();
  await writer.discardPartial();
  await rm(plan.partial, { force: true });
  releaseJob(plan.dir, manifest);
  const saved = framesDone(manifest);
  if (saved > 0) {
    emit({
      type: 'warning',
      code: 'resumable',
      message: `progress saved: ${saved} of ${plan.total} frames in ${plan.dir}; continue with: huaju4k resume "${plan.output}"`,
    });
  }
}

async function emitDone(
  plan: JobPlan,
  frames: number,
  telemetry: RunTelemetry,
  ctx: EnhanceContext,
  audio: AudioTreatment | undefined,
) {
  const { model } = ctx;
  const { upscaler, stages } = frameParts(ctx);
  const seconds = (Date.now() - telemetry.startedAt) / 1000;
  const done: DoneEvent = {
    type: 'done',
    ts: Date.now(),
    output: plan.output,
    frames,
    seconds,
    report: {
      model: model.id,
      executionProvider: model.executionProvider,
      precision: model.precision,
      tile: ctx.tile,
      target: plan.target,
      avgFps: telemetry.encoded / seconds,
      stageMs: telemetry.clock.snapshot(stages.length > 0),
      peakRssBytes: telemetry.peakRssBytes,
      outputBytes: (await stat(plan.output)).size,
      ...(upscaler.reuseRatio !== undefined && { reuseRatio: upscaler.reuseRatio }),
      ...(telemetry.clock.steadyFrameMs !== undefined && { steadyFrameMs: telemetry.clock.steadyFrameMs }),
      ...(audio && { audio: audioReport(audio) }),
    },
  };
  const { ts: _ts, ...payload } = done;
  ctx.emit(payload);
  return done;
}

/** Leaves the work folder for a later resume, or removes it when nothing in it is worth resuming. */
function releaseJob(dir: string, manifest: JobManifest): void {
  if (framesDone(manifest) === 0) rmSync(dir, { recursive: true, force: true });
  else unlockWorkDir(dir);
}
