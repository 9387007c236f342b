import { resolve } from 'node:path';
import { defaultOutputPath } from '../../protocol/output-name';
import type { PixelParams } from '../checkpoint/manifest';
import { defaultEncoderThreads, defaultSegmentFrames, pixelParams } from '../checkpoint/pixel-params';
import { workDirFor } from '../checkpoint/workdir';
import { DEFAULT_RESERVE_BYTES, type DiskEstimate, type DiskLimits, estimateDisk, resolveBudget } from '../disk/guard';
import type { EncoderSettings } from '../ffmpeg/encoder';
import { heldOutputBytes, planFrameMemory, simdHeldBytes } from './frame-checks';
import { partialPathFor } from './output-path';
import type { EnhanceContext, EnhanceOptions } from './pipeline-types';
import { checkedOutput, planSizes, type SizePlan, sizePixelParams } from './size-plan';
import type { Size } from './target-size';

export const DEFAULT_BUFFER_MB = 1024;

/** Everything a run needs to know before its first frame, resolved once from the options and the loaded model. */
export interface JobPlan {
  output: string;
  /** Where the join writes before the verified rename to `output`. */
  partial: string;
  /** The work folder (checkpoint, segments) beside the output. */
  dir: string;
  sizes: SizePlan;
  /** The encoded frame (the --target box, or the canvas with --fit pad). */
  target: Size;
  /** The frame the model takes and the one it returns. */
  inSize: Size;
  outSize: Size;
  /** Frames this run covers (all, or --max-frames). */
  total: number;
  segmentFrames: number;
  encoder: EncoderSettings;
  /**
   * Set on a VFR source: every frame keeps its source time, in this time base (the video stream's); the decoder
   * reports it, the segments carry it, the join places them by it. Undefined: CFR, timed at the frame rate.
   */
  timeBase?: string;
  /** The checkpoint's pixel parameters: a resume must match them. */
  params: PixelParams;
  /** The two frame rings' byte budgets and their sum as asked for (--buffer-mb). */
  memory: { budgetBytes: number; inBytes: number; outBytes: number };
  limits: DiskLimits;
  estimate: DiskEstimate;
}

/** Resolves the run once: output and work folder, sizes, frame memory, segments, encoder, checkpoint params, disk. */
export function planJob(opts: EnhanceOptions, ctx: EnhanceContext): JobPlan {
  const { info, model, upscaler, tile } = ctx;
  const output = resolve(opts.output ?? defaultOutputPath(opts.input));
  const { display, out } = ctx.checked ?? checkedOutput(info, opts);
  const sizes = planSizes(info, display, out, upscaler.scale, !!opts.sameSize);
  const { frame: target, modelInput: inSize, modelOutput: outSize } = sizes;
  const budgetBytes = (opts.bufferMb ?? DEFAULT_BUFFER_MB) * 2 ** 20;
  const inFrameBytes = inSize.width * inSize.height * 3;
  const outFrameBytes = outSize.width * outSize.height * 3;
  const held = heldOutputBytes(outFrameBytes, ctx.temporal);
  // The SIMD blend only where its copies of the frames fit the budget beside everything else; else the typed arrays
  // (the same bytes): it never makes a job that fits without it too large.
  const simd = simdHeldBytes(outFrameBytes, upscaler.scale, ctx.temporal);
  const withSimd = simd > 0 && inFrameBytes + outFrameBytes + held + simd <= budgetBytes;
  if (simd > 0 && !withSimd) ctx.temporal?.stage?.withoutSimd();
  const [inBytes, outBytes] = planFrameMemory({
    inBytes: inFrameBytes,
    outBytes: outFrameBytes,
    heldBytes: held + (withSimd ? simd : 0),
    budgetBytes,
    size: inSize,
    path: info.path,
  });
  const total = Math.min(opts.maxFrames ?? Number.POSITIVE_INFINITY, info.frameCountEstimate);
  const timeBase = info.vfr ? info.videoTimeBase : undefined;
  const dir = workDirFor(output);
  const segmentFrames = opts.segmentFrames ?? defaultSegmentFrames(info.fps);
  // A resumed job keeps the encoder threads it was started with (they shape x264's bitstream).
  const pinned = opts.resume ? opts.pinned?.threads : undefined;
  const encoder: EncoderSettings = {
    ...opts.encoder,
    threads: opts.encoder.threads ?? (typeof pinned === 'number' ? pinned : undefined) ?? defaultEncoderThreads(),
  };
  const params = pixelParams({
    modelSha256: model.sha256,
    modelScale: upscaler.scale,
    precision: model.precision,
    int8Sha256: model.int8Sha256,
    target,
    tile,
    encoder,
    segmentFrames,
    maxFrames: opts.maxFrames,
    extra: {
      ...opts.pixelSettings,
      ...sizePixelParams(sizes),
      ...(timeBase && { frameTimes: 'source' }),
      // The treated sound is part of the output: a resume with another --audio is refused (copy adds nothing).
      ...(opts.audio && opts.audio !== 'copy' && { audio: opts.audio }),
    },
  });
  const limits: DiskLimits = {
    budgetBytes: opts.diskBudgetBytes ?? resolveBudget(undefined, info.sizeBytes),
    reserveBytes: opts.diskReserveBytes ?? DEFAULT_RESERVE_BYTES,
  };
  return {
    output,
    partial: partialPathFor(output),
    dir,
    sizes,
    target,
    inSize,
    outSize,
    total,
    segmentFrames,
    encoder,
    timeBase,
    params,
    memory: { budgetBytes, inBytes, outBytes },
    limits,
    estimate: estimateDisk(target, total, encoder),
  };
}
