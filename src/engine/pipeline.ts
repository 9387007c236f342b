import { rmSync, statSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type DoneEvent, ExitCode } from '../protocol/engine-events';
import { defaultOutputPath } from '../protocol/output-name';
import { inputIdentity } from './checkpoint/fingerprint';
import { joinSegments, videoSpanS } from './checkpoint/join';
import { framesDone, type JobManifest } from './checkpoint/manifest';
import { checkpointParams, openJob } from './checkpoint/open-job';
import { defaultEncoderThreads, defaultSegmentFrames, pixelParams } from './checkpoint/pixel-params';
import { SegmentWriter } from './checkpoint/segment-writer';
import { dirBytes, unlockWorkDir, workDirFor } from './checkpoint/workdir';
import { children } from './children';
import { type DecodedFrame, FrameDecoder } from './decoder';
import {
  checkDisk,
  DEFAULT_RESERVE_BYTES,
  type DiskLimits,
  estimateDisk,
  freeBytes,
  precheckDisk,
  resolveBudget,
} from './disk/guard';
import { type EncoderSettings, outputFrameRate } from './encoder';
import { CancelledError, EngineError } from './errors';
import { checkDecodedAll, heldOutputBytes, planFrameMemory } from './frame-checks';
import { FrameRing } from './frame-ring';
import { partialPathFor } from './output-path';
import type { EnhanceContext, EnhanceOptions, PipelineFrame } from './pipeline-types';
import { PreviewEmitter } from './preview-emitter';
import { toProbeInfo } from './probe';
import { checkedOutput, planSizes, sizePixelParams } from './size-plan';
import { StageClock } from './stage-clock';
import { planStreams } from './stream-map';
import { primeForResume, primeStartFor } from './temporal/resume-prime';
import { countVideoPackets } from './verify';

export const DEFAULT_BUFFER_MB = 1024;
const PROGRESS_EVERY_MS = Number(process.env.HUAJU4K_PROGRESS_EVERY_MS ?? 250);
const SAMPLE_EVERY_MS = 1000;
/** Room kept for the manifest and filesystem block rounding on top of the open segment's expected size. */
const MANIFEST_MARGIN_BYTES = 8 * 1024;

/**
 * decode → ring → model (tiles) → stages → ring → segment encoders, all in memory. The three loops run
 * concurrently; the rings' byte budget is the backpressure. The video goes into fixed-size segments in a work
 * folder beside the output, each recorded in a manifest once verified; the end joins them without re-encoding,
 * adds the source's audio/subtitles, verifies the frame count, renames to the output and removes the folder.
 * Any failure (or the abort signal) stops every loop, kills the ffmpeg children and drops the open segment; the
 * recorded segments stay and `resume` continues from the first missing frame.
 */
export async function runEnhance(opts: EnhanceOptions, ctx: EnhanceContext): Promise<DoneEvent> {
  const t0 = Date.now();
  const { info, model, emit, tools } = ctx;
  const output = resolve(opts.output ?? defaultOutputPath(opts.input));
  const { display, out } = checkedOutput(info, opts);
  const { upscaler, tile } = ctx;
  const scale = upscaler.scale;
  const plan = planSizes(info, display, out, scale, !!opts.sameSize);
  const { frame: target, modelInput: inSize, modelOutput: outSize } = plan;
  const budget = (opts.bufferMb ?? DEFAULT_BUFFER_MB) * 2 ** 20;
  const inFrameBytes = inSize.width * inSize.height * 3;
  const outFrameBytes = outSize.width * outSize.height * 3;
  const heldBytes = heldOutputBytes(outFrameBytes, ctx.temporal);
  const memory = { inBytes: inFrameBytes, outBytes: outFrameBytes, heldBytes, budgetBytes: budget };
  const [inBudget, outBudget] = planFrameMemory({ ...memory, size: inSize, path: info.path });
  const total =
    opts.maxFrames !== undefined ? Math.min(opts.maxFrames, info.frameCountEstimate) : info.frameCountEstimate;

  // A VFR source keeps every frame's own time (decoder side channel → timed segments → join); CFR as ever.
  const timeBase = info.vfr ? info.videoTimeBase : undefined;
  const dir = workDirFor(output);
  const segmentFrames = opts.segmentFrames ?? defaultSegmentFrames(info.fps);
  const encoderSettings: EncoderSettings = {
    ...opts.encoder,
    threads: opts.encoder.threads ?? defaultEncoderThreads(),
  };
  const paramsFor = (settings: EncoderSettings) =>
    pixelParams({
      modelSha256: model.sha256,
      modelScale: scale,
      precision: model.precision,
      target,
      tile,
      encoder: settings,
      segmentFrames,
      maxFrames: opts.maxFrames,
      extra: { ...opts.pixelSettings, ...sizePixelParams(plan), ...(timeBase && { frameTimes: 'source' }) },
    });
  // A resumed job keeps the encoder threads it was started with (they shape x264's bitstream).
  const pinned = opts.resume ? readPinnedThreads(dir) : undefined;
  if (pinned !== undefined && opts.encoder.threads === undefined) encoderSettings.threads = pinned;
  const identity = inputIdentity(info.path);
  const job = openJob({
    dir,
    output,
    input: identity,
    params: paramsFor(encoderSettings),
    segmentFrames,
    totalFrames: total,
    args: opts.argv ?? [],
    resume: !!opts.resume,
  });
  const manifest = job.manifest;
  const resumeFrom = framesDone(manifest);
  if (opts.resume && !job.resumed) {
    emit({
      type: 'warning',
      code: 'nothing-to-resume',
      message: `no checkpoint in ${dir}; starting from the beginning`,
    });
  }
  if (job.dropped > 0) {
    emit({
      type: 'warning',
      code: 'segments-dropped',
      message: `${job.dropped} recorded segment(s) were missing or changed on disk; they are redone`,
    });
  }

  const limits: DiskLimits = {
    budgetBytes: opts.diskBudgetBytes ?? resolveBudget(undefined, info.sizeBytes),
    reserveBytes: opts.diskReserveBytes ?? DEFAULT_RESERVE_BYTES,
  };
  const estimate = estimateDisk(target, total, encoderSettings);
  const held = dirBytes(dir);
  const left = Math.max(0, total - resumeFrom) * estimate.bytesPerFrame;
  try {
    precheckDisk(estimate, left + held + left, held, freeBytes(dir), limits);
  } catch (err) {
    releaseJob(dir, manifest);
    throw err;
  }

  emit({
    type: 'start',
    v: 1,
    input: info.path,
    output,
    probe: toProbeInfo(info),
    model: { id: model.id, file: model.path, scale, sha256: model.sha256 },
    executionProvider: model.executionProvider,
    precision: model.precision,
    tile,
    target,
    plan: { modelInput: inSize, modelOutput: outSize, picture: plan.picture, sameSize: plan.sameSize },
    totalFrames: total,
    encoder: opts.encoder.codec,
    resumeFromFrame: resumeFrom,
    workDir: dir,
  });
  // What the join will do with the audio and subtitles (transcode, drop) is known now: say it before the work.
  for (const w of planStreams(info, output).warnings) emit({ type: 'warning', ...w });
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

  const writer = new SegmentWriter({
    dir,
    manifest,
    ffprobe: tools.ffprobe,
    emit,
    encoder: {
      ffmpeg: tools.ffmpeg,
      frameSize: outSize,
      target,
      picture: plan.picture,
      fpsRational: outputFrameRate(info).rational,
      timeBase,
      settings: encoderSettings,
    },
  });
  const primeAt = ctx.temporal && resumeFrom > 0 ? primeStartFor(resumeFrom, ctx.temporal) : resumeFrom;
  const decoder = manifest.decodedAll
    ? undefined
    : new FrameDecoder({
        ffmpeg: tools.ffmpeg,
        info,
        startFrame: primeAt,
        size: plan.sameSize ? inSize : undefined,
        timestamps: !!timeBase,
        maxFrames: opts.maxFrames !== undefined ? Math.max(0, opts.maxFrames - primeAt) : undefined,
      });

  const inRing = new FrameRing<DecodedFrame>(inBudget);
  const outRing = new FrameRing<PipelineFrame>(outBudget);
  const clock = new StageClock();
  const stages = ctx.stages ?? [];
  let encodedNow = 0;
  let peakRss = process.memoryUsage.rss();
  let lastProgress = 0;
  let lastSample = 0;
  let failure: Error | undefined;
  const partial = partialPathFor(output);
  await rm(partial, { force: true });

  const fail = (err: Error): void => {
    if (failure) return;
    failure = err;
    inRing.abort(err);
    outRing.abort(err);
    decoder?.kill();
    writer.abort();
  };
  const onAbort = () => fail(new CancelledError(String(opts.signal?.reason ?? 'signal')));
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const jobBytes = () => dirBytes(dir);
  // Per frame: the recorded segments' sizes plus the open segment's file, without listing the folder each time
  // (the manifest is inside the margin).
  const jobBytesNow = () => {
    let bytes = 0;
    for (const s of manifest.segments) bytes += s.bytes;
    const open = writer.partialPath;
    if (open) {
      try {
        bytes += statSync(open).size;
      } catch {
        // not created yet
      }
    }
    return bytes;
  };
  const sample = (now: number) => {
    const rss = process.memoryUsage.rss();
    peakRss = Math.max(peakRss, rss);
    if (now - lastSample < SAMPLE_EVERY_MS) return;
    lastSample = now;
    emit({
      type: 'sample',
      rssBytes: rss,
      frameBufferBytes: inRing.usedBytes + outRing.usedBytes,
      frameBufferBudgetBytes: budget,
      freeDiskBytes: freeBytes(dir),
      jobDiskBytes: jobBytes(),
      ...(ctx.gpu ? { gpu: ctx.gpu() } : {}),
    });
  };

  // Before each frame goes to the encoder: would the rest of the open segment (plus the manifest) still fit?
  let segmentBytesGuess = estimate.bytesPerFrame * segmentFrames;
  const guardDisk = () => {
    const last = manifest.segments.at(-1);
    if (last) segmentBytesGuess = Math.max(last.bytes, Math.round((last.bytes / last.frames) * segmentFrames));
    const margin = Math.round(segmentBytesGuess * 1.5) + MANIFEST_MARGIN_BYTES;
    const stop = checkDisk(jobBytesNow(), freeBytes(dir), margin, limits);
    if (stop) throw stop;
  };

  const previews = opts.previews ? new PreviewEmitter(tools.ffmpeg, emit, () => !!failure) : undefined;

  const decodeLoop = async () => {
    if (!decoder) return inRing.close();
    const it = decoder.frames();
    if (ctx.temporal) await primeForResume(it, primeAt, resumeFrom, inSize, ctx.temporal);
    let end = resumeFrom;
    for (;;) {
      const t = performance.now();
      const next = await it.next();
      if (next.done) break;
      clock.add('decode', performance.now() - t);
      end = next.value.index + 1;
      await inRing.push(next.value, next.value.data.length);
    }
    checkDecodedAll(end, total, info.path, decoder.errorOutput, emit);
    inRing.close();
  };

  const inferLoop = async () => {
    for (;;) {
      const f = await inRing.shift();
      if (!f) break;
      const t = performance.now();
      const out = await upscaler.upscale(f.data, inSize.width, inSize.height);
      clock.add('infer', performance.now() - t);
      let frame: PipelineFrame = { index: f.index, input: f.data, inputSize: inSize, output: out, outputSize: outSize };
      if (stages.length) {
        const ts = performance.now();
        for (const s of stages) frame = await s.process(frame);
        clock.add('temporal', performance.now() - ts);
      }
      await outRing.push(frame, frame.output.length);
    }
    outRing.close();
  };

  const encodeLoop = async () => {
    for (;;) {
      const f = await outRing.shift();
      if (!f) break;
      guardDisk();
      const t = performance.now();
      await writer.write(f.output, await decoder?.times?.at(f.index));
      clock.add('encode', performance.now() - t);
      encodedNow++;
      const now = Date.now();
      sample(now);
      const previewed = previews?.offer(f, now) ?? false;
      // Written and read by nobody else: its memory goes back to the upscaler for a later frame.
      if (!previewed && stages.length === 0) upscaler.release?.(f.output);
      const done = writer.framesWritten;
      if (now - lastProgress >= PROGRESS_EVERY_MS || done === total) {
        lastProgress = now;
        const secs = (now - t0) / 1000;
        const fps = secs > 0 ? encodedNow / secs : 0;
        emit({
          type: 'progress',
          frame: done,
          total: Math.max(total, done),
          fps,
          etaS: fps > 0 ? Math.max(0, total - done) / fps : 0,
          stageMs: clock.snapshot(stages.length > 0),
          ...(upscaler.reuseRatio !== undefined && { reuseRatio: upscaler.reuseRatio }),
        });
      }
    }
    if (!manifest.decodedAll) await writer.finish();
  };

  const guard = (p: Promise<void>) =>
    p.catch((err: unknown) => {
      fail(err instanceof Error ? err : new Error(String(err)));
    });
  let frames = 0;
  try {
    await Promise.all([guard(decodeLoop()), guard(inferLoop()), guard(encodeLoop())]);
    if (failure) throw failure;
    frames = framesDone(manifest);
    if (frames === 0) {
      throw new EngineError(ExitCode.badInput, 'no-frames', `no video frames could be decoded from ${info.path}`);
    }
    // The join writes as much again as the segments hold: check the space for it first.
    const stop = checkDisk(jobBytes(), freeBytes(dir), jobBytes(), limits);
    if (stop) throw stop;
    await joinSegments({
      ffmpeg: tools.ffmpeg,
      dir,
      manifest,
      source: info,
      output: partial,
      durationS: opts.maxFrames !== undefined && info.fps > 0 ? videoSpanS(manifest, info) : undefined,
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
    await rename(partial, output);
  } catch (err) {
    fail(err instanceof Error ? err : new Error(String(err)));
    children.killAll();
    await children.reaped();
    await writer.discardPartial();
    await rm(partial, { force: true });
    releaseJob(dir, manifest);
    const saved = framesDone(manifest);
    if (saved > 0) {
      emit({
        type: 'warning',
        code: 'resumable',
        message: `progress saved: ${saved} of ${total} frames in ${dir}; continue with: huaju4k resume "${output}"`,
      });
    }
    throw failure ?? err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  rmSync(dir, { recursive: true, force: true });
  const seconds = (Date.now() - t0) / 1000;
  const outputBytes = (await stat(output)).size;
  const done: DoneEvent = {
    type: 'done',
    ts: Date.now(),
    output,
    frames,
    seconds,
    report: {
      model: model.id,
      executionProvider: model.executionProvider,
      precision: model.precision,
      tile,
      target,
      avgFps: encodedNow / seconds,
      stageMs: clock.snapshot(stages.length > 0),
      peakRssBytes: peakRss,
      outputBytes,
      ...(upscaler.reuseRatio !== undefined && { reuseRatio: upscaler.reuseRatio }),
    },
  };
  const { ts: _ts, ...payload } = done;
  emit(payload);
  return done;
}

function readPinnedThreads(dir: string): number | undefined {
  try {
    const t = checkpointParams(dir)?.threads;
    return typeof t === 'number' ? t : undefined;
  } catch {
    return undefined;
  }
}

/** Leaves the work folder for a later resume, or removes it when nothing in it is worth resuming. */
function releaseJob(dir: string, manifest: JobManifest): void {
  if (framesDone(manifest) === 0) rmSync(dir, { recursive: true, force: true });
  else unlockWorkDir(dir);
}
