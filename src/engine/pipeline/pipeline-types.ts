import type { AudioMode } from '../../protocol/cli-options';
import type { GpuState } from '../../protocol/engine-events';
import type { PixelParams } from '../checkpoint/manifest';
import type { Emit } from '../events';
import type { EncoderSettings } from '../ffmpeg/encoder';
import type { FfmpegTools } from '../ffmpeg/ffmpeg-tools';
import type { MediaInfo } from '../ffmpeg/probe';
import type { FrameStage, FrameUpscaler } from '../frame-stage';
import type { Precision } from '../model/loader';
import type { TemporalParts } from '../temporal/resume-prime';
import type { CheckedOutput } from './size-plan';
import type { FitMode } from './target-size';

/** The parts of model/loader.ts's LoadedModel the pipeline reports (the session itself lives in the worker). */
export interface EngineModel {
  id: string;
  path: string;
  scale: number;
  sha256: string;
  executionProvider: string;
  /** 'fp16' / 'int8' when the provider runs the model's fp16 or int8 variant (gpu/precision.ts). */
  precision: Precision;
  /** int8 only: which int8 variant (model/loader.ts). */
  int8Sha256?: string;
}

export type { FrameStage, FrameUpscaler, PipelineFrame } from '../frame-stage';

export interface EnhanceOptions {
  input: string;
  output?: string;
  /** A box (fit inside, display aspect kept); default 3840x2160. */
  target?: string;
  scale?: number;
  /** `pad`: the frame is exactly the --target box, the picture centred on black (default `contain`). */
  fit?: FitMode;
  /** Run a source that already reaches the target shrunk to target ÷ model scale (else it is refused). */
  sameSize?: boolean;
  encoder: EncoderSettings;
  maxFrames?: number;
  bufferMb?: number;
  /** Send preview events (≤ 1/s); off for plain CLI use. */
  previews?: boolean;
  /** Each preview pair as JPEG bytes too (for a stream hub), when previews are on. */
  onPreview?: (frame: number, input: Buffer, output: Buffer) => void;
  signal?: AbortSignal;
  /** Frames per segment (each its own encoder run); default ≈ 10 s of video. */
  segmentFrames?: number;
  /** Continue the checkpoint beside the output (refused when the input or pixel settings differ). */
  resume?: boolean;
  /**
   * On resume, the pixel parameters of the checkpoint being continued, read once by the caller before the model
   * loads (cli.ts: the tile and precision come from it too). A resumed job keeps its encoder threads from them.
   */
  pinned?: PixelParams;
  /** Disk budget for the job's files (bytes); default max(4 × input, 1 GiB). */
  diskBudgetBytes?: number;
  /** Free space that must remain on the output's disk (bytes); default 2 GiB. */
  diskReserveBytes?: number;
  /** The enhance argv, kept in the checkpoint so `huaju4k resume` can rerun it. */
  argv?: string[];
  /** Settings of stages that change pixels (temporal…), hashed into the checkpoint. */
  pixelSettings?: PixelParams;
  /** The sound: copied (default) or measured and treated in the join (audio/job-audio.ts). */
  audio?: AudioMode;
}

export interface EnhanceContext {
  tools: FfmpegTools;
  info: MediaInfo;
  /** `checkedOutput(info, opts)` when the caller already checked the sizes (cli.ts); else the plan checks them. */
  checked?: CheckedOutput;
  model: EngineModel;
  emit: Emit;
  /** The model behind its runner (the inference worker, or an in-thread TileUpscaler in tests); `temporal.upscaler`, when given, wraps it and is what each frame goes through. */
  upscaler: FrameUpscaler;
  /** Tile size the upscaler uses (reported in `start` and `done`); 0 = whole frame. */
  tile: number;
  /** Stages after the model; default: `temporal.stage` when there is one. */
  stages?: FrameStage[];
  /**
   * State that carries across frames (tile reuse, temporal window): on resume at frame N it is primed from the
   * frames before N (temporal/resume-prime.ts), so the output does not depend on where the run was interrupted.
   */
  temporal?: TemporalParts;
  /** Latest GPU memory reading for `sample` events (gpu/vram-monitor.ts); absent = not monitored. */
  gpu?: () => GpuState;
}
