import type { Emit } from '../events';
import { PreviewJpegEncoder } from '../ffmpeg/preview-jpeg';
import type { PipelineFrame } from './pipeline-types';

const PREVIEW_EVERY_MS = 1000;

/**
 * Turns the frames going to the encoder into `preview` events: at most one pair a second, never two being made at
 * once, and made off the pipeline's path (a preview that fails or comes late costs the job nothing).
 */
export class PreviewEmitter {
  private last = 0;
  private busy = false;
  /** One long-lived JPEG encoder for the inputs, one for the outputs (each stream has one frame size). */
  private readonly inputs: PreviewJpegEncoder;
  private readonly outputs: PreviewJpegEncoder;

  constructor(
    ffmpeg: string,
    private readonly emit: Emit,
    /** True once the run has failed or been cancelled: a preview finished after that is dropped. */
    private readonly stopped: () => boolean,
    /** Also given each pair as JPEG bytes (a stream hub publisher), before they become the event's base64. */
    private readonly onPair?: (frame: number, input: Buffer, output: Buffer) => void,
  ) {
    this.inputs = new PreviewJpegEncoder(ffmpeg);
    this.outputs = new PreviewJpegEncoder(ffmpeg);
  }

  /** Ends both encoders (a preview being made is dropped) and waits for them to exit. */
  async close(): Promise<void> {
    await Promise.all([this.inputs.close(), this.outputs.close()]);
  }

  /** True when it took the frame (its buffers are read while the preview is made). */
  offer(f: PipelineFrame, now: number): boolean {
    if (this.busy || now - this.last < PREVIEW_EVERY_MS) return false;
    this.last = now;
    this.busy = true;
    Promise.all([
      this.inputs.encode(f.input, f.inputSize.width, f.inputSize.height),
      this.outputs.encode(f.output, f.outputSize.width, f.outputSize.height),
    ])
      .then(([a, b]) => {
        if (this.stopped()) return;
        this.onPair?.(f.index, a.jpeg, b.jpeg);
        this.emit({
          type: 'preview',
          frame: f.index,
          mime: 'image/jpeg',
          input: a.jpeg.toString('base64'),
          output: b.jpeg.toString('base64'),
          width: b.width,
          height: b.height,
        });
      })
      .catch(() => {})
      .finally(() => {
        this.busy = false;
      });
    return true;
  }
}
