import { rmSync, statSync } from 'node:fs';
import { access, constants, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { type DoneEvent, ExitCode, type GpuState, type StageMs } from '../protocol/engine-events';
import { inputIdentity } from './checkpoint/fingerprint';
import { joinSegments } from './checkpoint/join';
import { framesDone, type JobManifest, type PixelParams } from './checkpoint/manifest';
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
import { formatBytes } from './disk/size-spec';
import type { EncoderSettings } from './encoder';
import { CancelledError, EngineError, stderrTail } from './errors';
import type { Emit } from './events';
import type { FfmpegTools } from './ffmpeg-tools';
import { FrameRing, splitBudget } from './frame-ring';
import { previewJpeg } from './preview';
import { type MediaInfo, toProbeInfo } from './probe';
import { containerOf } from './stream-map';
import { resolveTarget, type Size } from './target-size';
import { primeForResume, primeStartFor, type TemporalParts } from './temporal/resume-prime';
import { countVideoPackets } from './verify';

/** The parts of model/loader.ts's LoadedModel the pipeline reports (the session itself lives in the worker). */
export interface EngineModel {
  id: string;
  path: string;
  scale: number;
  sha256: string;
  executionProvider: string;
  /** 'fp16' when the provider runs the model's fp16 variant (gpu/precision.ts). */
  precision: 'fp32' | 'fp16';
}

/** Anything that turns a low-res RGB24 frame into a ×scale RGB24 frame (the tiled model, or a reuse-aware one). */
export interface FrameUpscaler {
  readonly scale: number;
  /** Share of tiles served from a previous frame's output so far (temporal/reuse-upscaler.ts); reported in progress. */
  readonly reuseRatio?: number;
  upscale(frame: Uint8Array, width: number, height: number): Promise<Buffer>;
}

/** A frame between the model and the encoder. */
export interface PipelineFrame {
  index: number;
  input: Buffer;
  inputSize: Size;
  output: Buffer;
  outputSize: Size;
}

/**
 * A stage between inference and encode (temporal filter, overlays…). One frame in, one frame out, in order;
 * `output` may be replaced but must keep `outputSize`.
 */
export interface FrameStage {
  readonly name: string;
  process(frame: PipelineFrame): Promise<PipelineFrame> | PipelineFrame;
}

export interface EnhanceOptions {
  input: string;
  output?: string;
  target?: string;
  scale?: number;
  encoder: EncoderSettings;
  maxFrames?: number;
  bufferMb?: number;
  /** Send preview events (≤ 1/s); off for plain CLI use. */
  previews?: boolean;
  signal?: AbortSignal;
  /** Frames per segment (each its own encoder run); default ≈ 10 s of video. */
  segmentFrames?: number;
  /** Continue the checkpoint beside the output (refused when the input or pixel settings differ). */
  resume?: boolean;
  /** Disk budget for the job's files (bytes); default max(4 × input, 1 GiB). */
  diskBudgetBytes?: number;
  /** Free space that must remain on the output's disk (bytes); default 2 GiB. */
  diskReserveBytes?: number;
  /** The enhance argv, kept in the checkpoint so `huaju4k resume` can rerun it. */
  argv?: string[];
  /** Settings of stages that change pixels (temporal…), hashed into the checkpoint. */
  pixelSettings?: PixelParams;
}

export interface EnhanceContext {
  tools: FfmpegTools;
  info: MediaInfo;
  model: EngineModel;
  emit: Emit;
  /** The model behind its runner (the inference worker, or an in-thread TileUpscaler in tests). */
  upscaler: FrameUpscaler;
  /** Tile size the upscaler uses (reported in `start` and `done`); 0 = whole frame. */
  tile: number;
  stages?: FrameStage[];
  /**
   * State that carries across frames (tile reuse, temporal window): on resume at frame N it is primed from the
   * frames before N (temporal/resume-prime.ts), so the output does not depend on where the run was interrupted.
   */
  temporal?: TemporalParts;
  /** Latest GPU memory reading for `sample` events (gpu/vram-monitor.ts); absent = not monitored. */
  gpu?: () => GpuState;
}

export const DEFAULT_BUFFER_MB = 1024;
const PROGRESS_EVERY_MS = Number(process.env.HUAJU4K_PROGRESS_EVERY_MS ?? 250);
const SAMPLE_EVERY_MS = 1000;
/** Room kept for the manifest and filesystem block rounding on top of the open segment's expected size. */
const MANIFEST_MARGIN_BYTES = 8 * 1024;
const PREVIEW_EVERY_MS = 1000;

export function defaultOutputPath(input: string): string {
  const ext = extname(input);
  return join(dirname(input), `${basename(input, ext)}.4k.mp4`);
}

/** Name the encoder writes to until the run succeeds; a cancelled or failed run never leaves `output` itself. */
export function partialPathFor(output: string): string {
  const ext = extname(output);
  return join(dirname(output), `${basename(output, ext)}.partial${ext}`);
}

/** Running average of stage times (ms per frame). */
class StageClock {
  private sums = { decode: 0, infer: 0, temporal: 0, encode: 0 };
  private counts = { decode: 0, infer: 0, temporal: 0, encode: 0 };
  add(stage: keyof StageClock['sums'], ms: number): void {
    this.sums[stage] += ms;
    this.counts[stage]++;
  }
  snapshot(withTemporal: boolean): StageMs {
    const avg = (k: keyof StageClock['sums']) => (this.counts[k] ? this.sums[k] / this.counts[k] : 0);
    const s: StageMs = { decode: avg('decode'), infer: avg('infer'), encode: avg('encode') };
    if (withTemporal) s.temporal = avg('temporal');
    return s;
  }
}

async function checkOutputPath(input: string, output: string): Promise<void> {
  if (resolve(input) === resolve(output)) {
    throw new EngineError(
      ExitCode.badInput,
      'output-is-input',
      `output would overwrite the input: ${output}`,
      'choose another -o',
    );
  }
  containerOf(output);
  try {
    await access(dirname(output), constants.W_OK);
  } catch {
    throw new EngineError(
      ExitCode.badInput,
      'output-unwritable',
      `cannot write to the output folder ${dirname(output)}`,
      'check that it exists and is writable, or choose another -o',
    );
  }
}

/** The rings must hold at least one input and one output frame; a frame that alone passes the budget is refused. */
export function checkFrameMemory(inBytes: number, outBytes: number, budgetBytes: number, size: Size): void {
  if (inBytes + outBytes <= budgetBytes) return;
  throw new EngineError(
    ExitCode.badInput,
    'frame-too-large',
    `a ${size.width}×${size.height} frame needs ${formatBytes(inBytes + outBytes)} in memory (input + ×4 output), over the frame buffer budget of ${formatBytes(budgetBytes)}`,
    'raise --buffer-mb if the machine has the memory, or downscale the input first',
  );
}

/**
 * ffmpeg exits 0 on a file cut off mid-stream, after the frames it could read: a source that ends well before the
 * frame count its container declares, with decode errors on the way, is damaged, and a silently shorter video is
 * not a result. Short without errors (an edit list trimming a lossless cut) is only a warning.
 */
function checkDecodedAll(end: number, expected: number, path: string, decodeErrors: string, emit: Emit): void {
  if (end >= Math.floor(expected * 0.98) - 1) return;
  if (!decodeErrors.trim()) {
    emit({
      type: 'warning',
      code: 'frame-count-differs',
      message: `the input has ${end} frames, its container declares ${expected}`,
    });
    return;
  }
  throw new EngineError(
    ExitCode.badInput,
    'input-truncated',
    `the input ended after ${end} of ${expected} frames: ${path} is truncated or damaged (${stderrTail(decodeErrors, 1)})`,
    `repair or re-download it; to keep the readable part, run with --max-frames ${Math.max(1, end)}`,
  );
}

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
  await checkOutputPath(opts.input, output);
  const target = resolveTarget({ width: info.displayWidth, height: info.displayHeight }, opts);
  const { upscaler, tile } = ctx;
  const scale = upscaler.scale;
  const inSize = { width: info.width, height: info.height };
  const outSize = { width: info.width * scale, height: info.height * scale };
  const budget = (opts.bufferMb ?? DEFAULT_BUFFER_MB) * 2 ** 20;
  const inFrameBytes = inSize.width * inSize.height * 3;
  const outFrameBytes = outSize.width * outSize.height * 3;
  checkFrameMemory(inFrameBytes, outFrameBytes, budget, inSize);
  const [inBudget, outBudget] = splitBudget(budget, inFrameBytes, outFrameBytes);
  const total =
    opts.maxFrames !== undefined ? Math.min(opts.maxFrames, info.frameCountEstimate) : info.frameCountEstimate;

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
      extra: opts.pixelSettings,
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
    totalFrames: total,
    encoder: opts.encoder.codec,
    resumeFromFrame: resumeFrom,
    workDir: dir,
  });
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
      message: 'variable frame rate source: every frame is kept, timed at the average rate',
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
      fpsRational: info.vfr && info.durationS > 0 ? `${total}/${info.durationS}` : info.fpsRational,
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
  let lastPreview = 0;
  let previewBusy = false;
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

  const maybePreview = (f: PipelineFrame, now: number) => {
    if (!opts.previews || previewBusy || now - lastPreview < PREVIEW_EVERY_MS) return;
    lastPreview = now;
    previewBusy = true;
    Promise.all([
      previewJpeg(tools.ffmpeg, f.input, f.inputSize.width, f.inputSize.height),
      previewJpeg(tools.ffmpeg, f.output, f.outputSize.width, f.outputSize.height),
    ])
      .then(([a, b]) => {
        if (!failure) {
          emit({
            type: 'preview',
            frame: f.index,
            mime: 'image/jpeg',
            input: a.base64,
            output: b.base64,
            width: b.width,
            height: b.height,
          });
        }
      })
      .catch(() => {})
      .finally(() => {
        previewBusy = false;
      });
  };

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
      await writer.write(f.output);
      clock.add('encode', performance.now() - t);
      encodedNow++;
      const now = Date.now();
      sample(now);
      maybePreview(f, now);
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
      durationS: opts.maxFrames !== undefined && info.fps > 0 ? frames / info.fps : undefined,
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
