/**
 * The frame and stage shapes the pipeline and the temporal stage both speak. Here, not in pipeline/, so that
 * temporal/ can use them without importing the pipeline that imports it (no import circle).
 */
import type { Size } from './pipeline/target-size';

/** Anything that turns a low-res RGB24 frame into a ×scale RGB24 frame (the tiled model, or a reuse-aware one). */
export interface FrameUpscaler {
  readonly scale: number;
  /** Share of tiles served from a previous frame's output so far (temporal/reuse-upscaler.ts); reported in progress. */
  readonly reuseRatio?: number;
  upscale(frame: Uint8Array, width: number, height: number): Promise<Buffer>;
  /**
   * Gives back a frame `upscale` returned, once nothing reads it any more (the encoder has written it): its memory
   * is reused for a later frame instead of allocating 25 MB per 4K frame. Optional; never call it for a frame that
   * is still held (a temporal history, a preview being encoded).
   */
  release?(frame: Buffer): void;
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
  /**
   * process() in two parts, for a stage whose state must advance in frame order before the next frame is upscaled
   * but whose per-output-pixel work reads only this frame's buffers and what was decided: split() advances the state
   * and decides now, and returns the rest (possibly async), which the pipeline runs after the next frame was split
   * and while the model works on the one after (frame-loops.ts). split(f)() must return what process(f) would.
   */
  split?(frame: PipelineFrame): () => PipelineFrame | Promise<PipelineFrame>;
}
