import type { Emit } from './events';
import type { PipelineFrame } from './pipeline-types';
import { previewJpeg } from './preview';

const PREVIEW_EVERY_MS = 1000;

/**
 * Turns the frames going to the encoder into `preview` events: at most one pair a second, never two being made at
 * once, and made off the pipeline's path (a preview that fails or comes late costs the job nothing).
 */
export class PreviewEmitter {
  private last = 0;
  private busy = false;

  constructor(
    private readonly ffmpeg: string,
    private readonly emit: Emit,
    /** True once the run has failed or been cancelled: a preview finished after that is dropped. */
    private readonly stopped: () => boolean,
    /** Also given each pair as JPEG bytes (a stream hub publisher), before they become the event's base64. */
    private readonly onPair?: (frame: number, input: Buffer, output: Buffer) => void,
  ) {}

  /** True when it took the frame (its buffers are read while the preview is made). */
  offer(f: PipelineFrame, now: number): boolean {
    if (this.busy || now - this.last < PREVIEW_EVERY_MS) return false;
    this.last = now;
    this.busy = true;
    Promise.all([
      previewJpeg(this.ffmpeg, f.input, f.inputSize.width, f.inputSize.height),
      previewJpeg(this.ffmpeg, f.output, f.outputSize.width, f.outputSize.height),
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
