import { availableParallelism } from 'node:os';
import { defaultPreset, defaultQuality, type EncoderSettings } from '../ffmpeg/encoder';
import type { Size } from '../pipeline/target-size';
import type { PixelParams } from './manifest';

/** Bump when the engine's pixel path changes in a way that makes old segments unjoinable or different. */
export const PIXEL_PATH_VERSION = 1;

/** Segments of about 10 s of video. */
export function defaultSegmentFrames(fps: number): number {
  return Math.max(1, Math.round((fps > 0 ? fps : 25) * 10));
}

/** ffmpeg's own libx264 default (1.5 × cores), pinned for the job so a resume on another machine encodes alike. */
export function defaultEncoderThreads(): number {
  return Math.min(16, Math.max(1, Math.round(availableParallelism() * 1.5)));
}

export interface PixelParamsInput {
  modelSha256: string;
  modelScale: number;
  /** fp16 and int8 change the pixels; fp32 adds nothing, so checkpoints written before fp16 existed still match. */
  precision?: 'fp32' | 'fp16' | 'int8';
  /** The int8 variant's sha256: a job is not resumed with other int8 arithmetic (a recalibrated variant). */
  int8Sha256?: string;
  target: Size;
  tile: number;
  encoder: EncoderSettings;
  segmentFrames: number;
  maxFrames?: number;
  /** Settings of later stages (temporal…), added by whoever wires them in. */
  extra?: PixelParams;
}

/** Everything that changes the pixels or the bitstream, as plain JSON (hashed into the manifest). */
export function pixelParams(p: PixelParamsInput): PixelParams {
  const e = p.encoder;
  return {
    pixelPath: PIXEL_PATH_VERSION,
    model: p.modelSha256,
    modelScale: p.modelScale,
    ...(p.precision && p.precision !== 'fp32' && { precision: p.precision }),
    ...(p.precision === 'int8' && p.int8Sha256 && { int8: p.int8Sha256 }),
    target: `${p.target.width}x${p.target.height}`,
    tile: p.tile,
    codec: e.codec,
    // The default spelled out (--crf 18 for x264) is the same job as no --crf: recorded as null either way.
    crf: e.crf === undefined || e.crf === defaultQuality(e.codec) ? null : e.crf,
    preset: e.preset ?? defaultPreset(e.codec),
    threads: e.threads ?? null,
    segmentFrames: p.segmentFrames,
    maxFrames: p.maxFrames ?? null,
    ...p.extra,
  };
}
