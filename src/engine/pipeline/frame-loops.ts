import type { SegmentWriter } from '../checkpoint/segment-writer';
import { children } from '../children';
import { CancelledError } from '../errors';
import type { Emit } from '../events';
import type { DecodedFrame, FrameDecoder } from '../ffmpeg/decoder';
import { closeWorkers, primeForResume, type TemporalParts } from '../temporal/resume-prime';
import { checkDecodedAll } from './frame-checks';
import { FrameRing } from './frame-ring';
import type { FrameStage, FrameUpscaler, PipelineFrame } from './pipeline-types';
import type { PreviewEmitter } from './preview-emitter';
import type { RunTelemetry } from './run-telemetry';
import type { Size } from './target-size';

/** A frame whose stage work is not finished: split() ran (`rest` is left), or nothing ran yet (`rest` absent). */
interface SplitFrame {
  frame: PipelineFrame;
  rest?: () => PipelineFrame | Promise<PipelineFrame>;
  /** Stage time spent on it so far (split(), the wait for its flows). */
  stageMs: number;
}

/** A frame whose upscale has started (FrameLoops.startNext). */
interface StartedFrame {
  frame: DecodedFrame;
  output: Promise<Buffer>;
  flowWait: number;
  callMs: number;
}

export interface FrameLoopsOptions {
  /** Absent when every frame is already encoded (only the join is left). */
  decoder?: FrameDecoder;
  upscaler: FrameUpscaler;
  stages: FrameStage[];
  writer: SegmentWriter;
  inSize: Size;
  outSize: Size;
  /** The two rings' byte budgets: the backpressure between the loops. */
  ringBytes: { in: number; out: number };
  /** Frames the run covers; the decoder must deliver up to this one. */
  total: number;
  /** First frame this run encodes, and the earlier frame the decoder starts at to prime the temporal state. */
  resumeFrom: number;
  primeAt: number;
  temporal?: TemporalParts;
  inputPath: string;
  /** Called before each frame goes to the encoder (the disk guard); throws to stop the run. */
  beforeEncode: () => void;
  telemetry: RunTelemetry;
  previews?: PreviewEmitter;
  emit: Emit;
  signal?: AbortSignal;
}

/**
 * decode → ring → model (tiles) → stages → ring → segment encoder, the three loops running concurrently. The first
 * failure stops every loop, kills the decoder and aborts the writer; `run` then rejects with it. The abort signal
 * (a cancel) stops the decoder and the model the same way, but the frames already handed to the encoder are kept:
 * the open segment is closed at its last frame and recorded (`cancel`), then `run` rejects with the CancelledError.
 */
export class FrameLoops {
  private readonly inRing: FrameRing<DecodedFrame>;
  private readonly outRing: FrameRing<PipelineFrame>;
  private failure: Error | undefined;
  private cancelled: CancelledError | undefined;
  /** Settles when the encode loop has closed the open segment after a cancel (what the CLI's cancel waits for). */
  private closeDone: () => void = () => undefined;
  private readonly closed = new Promise<void>((resolve) => {
    this.closeDone = resolve;
  });

  constructor(private readonly o: FrameLoopsOptions) {
    this.inRing = new FrameRing<DecodedFrame>(o.ringBytes.in);
    this.outRing = new FrameRing<PipelineFrame>(o.ringBytes.out);
  }

  /** Bytes the rings hold now. */
  get usedBytes(): number {
    return this.inRing.usedBytes + this.outRing.usedBytes;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Stops every loop with `err` (the first one wins). */
  fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.inRing.abort(err);
    this.outRing.abort(err);
    this.o.decoder?.kill();
    this.o.writer.abort();
    // Wakes a decode loop waiting for room in the flow workers' queue.
    closeWorkers(this.o.temporal);
  }

  /**
   * A cancel: the decoder, the model loop and the frames waiting for the model stop as on a failure; the encode
   * loop finishes the frame it is writing, then closes the open segment (SegmentWriter.closeOpen), so the frames
   * encoded so far are kept and a resume continues from the next one. The close is held (children.hold) so the
   * CLI's cancel reaps the encoder only after it.
   */
  cancel(err: CancelledError): void {
    if (this.failure || this.cancelled) return;
    this.cancelled = err;
    children.hold(this.closed);
    this.inRing.abort(err);
    this.outRing.abort(err);
    this.o.decoder?.kill();
    closeWorkers(this.o.temporal);
  }

  async run(): Promise<void> {
    const { signal } = this.o;
    const onAbort = () => this.cancel(new CancelledError(String(signal?.reason ?? 'signal')));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    // After a cancel the decode and model loops were stopped on purpose (killed decoder, aborted rings): what they
    // throw then is that stop. The encode loop's errors stay failures: a segment that cannot be closed is dropped.
    const guard = (p: Promise<void>, stoppedByCancel: boolean) =>
      p.catch((err: unknown) => {
        if (this.cancelled && (stoppedByCancel || err === this.cancelled)) return;
        this.fail(err instanceof Error ? err : new Error(String(err)));
      });
    try {
      await Promise.all([
        guard(this.decodeLoop(), true),
        guard(this.inferLoop(), true),
        guard(this.encodeLoop(), false),
      ]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      closeWorkers(this.o.temporal);
      this.closeDone();
    }
    if (this.failure) throw this.failure;
    if (this.cancelled) throw this.cancelled;
  }

  private async decodeLoop(): Promise<void> {
    const { decoder, temporal, telemetry } = this.o;
    if (!decoder) return this.inRing.close();
    const it = decoder.frames();
    if (temporal) await primeForResume(it, this.o.primeAt, this.o.resumeFrom, this.o.inSize, temporal);
    let end = this.o.resumeFrom;
    for (;;) {
      const t = performance.now();
      const next = await it.next();
      if (next.done) break;
      telemetry.clock.add('decode', performance.now() - t);
      // Its flows start in the flow worker now, while earlier frames are in the model and the encoder.
      await temporal?.flows?.offer(next.value.index, next.value.data, this.o.inSize.width, this.o.inSize.height);
      end = next.value.index + 1;
      await this.inRing.push(next.value, next.value.data.length);
    }
    // A run stopped by a failure or a cancel killed the decoder: where it ended says nothing about the input.
    if (this.failure || this.cancelled) return;
    checkDecodedAll(end, this.o.total, this.o.inputPath, decoder.errorOutput, this.o.emit);
    this.inRing.close();
  }

  /**
   * Model, then stages, frame by frame. When the first stage can split its work (FrameStage.split: the temporal
   * stage on typed arrays), frame N's state and decisions are taken first (the temporal stage's warp worker plans
   * its motion blend from then on), frame N+1 goes to the model, and only then is frame N−1's per-output-pixel work
   * done: it overlaps the model on N+1 (a worker thread, or the device) and the worker's plan of N instead of adding
   * to them (issue 33). That work goes on (on the blend pool's threads) while this loop splits the next frame.
   * Every stateful step still runs in frame order, so the bytes are the same.
   */
  private async inferLoop(): Promise<void> {
    const { stages, telemetry } = this.o;
    const clock = { lastOut: performance.now() };
    let started = await this.startNext();
    let waiting: SplitFrame | undefined;
    // The frame before `waiting`, being finished: its blend (on the blend pool's threads) overlaps this loop's work.
    let finishing: Promise<void> = Promise.resolve();
    while (started) {
      const t = performance.now();
      const out = await started.output;
      const { frame: f, flowWait } = started;
      telemetry.clock.add('infer', performance.now() - t + started.callMs + (stages.length ? 0 : flowWait));
      const frame: PipelineFrame = {
        index: f.index,
        input: f.data,
        inputSize: this.o.inSize,
        output: out,
        outputSize: this.o.outSize,
      };
      const ts = performance.now();
      const rest = stages[0]?.split?.(frame);
      const stageMs = performance.now() - ts + flowWait;
      if (!rest) {
        await this.finishFrame({ frame, stageMs }, clock);
        started = await this.startNext();
        continue;
      }
      // The next frame goes to the model before the frame before this one is finished, and that one is finished
      // while the next is split: frames still reach the encoder in order, one finished at a time.
      started = await this.startNext();
      await finishing;
      if (waiting) finishing = this.finishFrame(waiting, clock);
      // Awaited above or below; until then its failure is not an unhandled one.
      finishing.catch(() => undefined);
      waiting = { frame, rest, stageMs };
    }
    await finishing;
    if (waiting) await this.finishFrame(waiting, clock);
    this.outRing.close();
  }

  /** A frame's remaining stage work (its split-off rest, or every stage), then into the encoder's ring. */
  private async finishFrame(s: SplitFrame, clock: { lastOut: number }): Promise<void> {
    const { stages, telemetry } = this.o;
    const tr = performance.now();
    let frame = s.rest ? await s.rest() : s.frame;
    for (const stage of s.rest ? stages.slice(1) : stages) frame = await stage.process(frame);
    if (stages.length) telemetry.clock.add('temporal', s.stageMs + performance.now() - tr);
    await this.outRing.push(frame, frame.output.length);
    // The loop's period: its own work and its waits for a decoded frame and for room in the encoder's ring.
    const now = performance.now();
    telemetry.clock.addFrame(now - clock.lastOut);
    clock.lastOut = now;
  }

  /**
   * The next decoded frame, its flows handed to the estimator and its upscale started (not awaited); undefined at
   * the end. `flowWait`: the time waiting for the flow worker; `callMs`: the upscaler's synchronous part (reuse).
   */
  private async startNext(): Promise<StartedFrame | undefined> {
    const f = await this.inRing.shift();
    if (!f) return undefined;
    const tf = performance.now();
    // Waiting for the flow worker counts as temporal work (as reuse's own work when there is no stage).
    await this.o.temporal?.flows?.ready(f.index);
    const flowWait = performance.now() - tf;
    const t = performance.now();
    const output = this.o.upscaler.upscale(f.data, this.o.inSize.width, this.o.inSize.height);
    // Awaited by the loop; while the frame before it is finished a failure must not count as unhandled.
    output.catch(() => {});
    return { frame: f, output, flowWait, callMs: performance.now() - t };
  }

  private async encodeLoop(): Promise<void> {
    try {
      await this.encodeFrames();
    } finally {
      this.closeDone();
    }
  }

  private async encodeFrames(): Promise<void> {
    const { writer, telemetry, previews, upscaler, stages } = this.o;
    for (;;) {
      const f = this.cancelled ? undefined : await this.outRing.shift().catch(this.unlessCancelled);
      if (!f) break;
      this.o.beforeEncode();
      const t = performance.now();
      // On a VFR source the frame's source time (the decoder's side channel); undefined on CFR.
      await writer.write(f.output, await this.o.decoder?.times?.at(f.index));
      telemetry.clock.add('encode', performance.now() - t);
      const previewed = previews?.offer(f, Date.now()) ?? false;
      // Written and read by nobody else: its memory goes back to the upscaler for a later frame.
      if (!previewed && stages.length === 0) upscaler.release?.(f.output);
      telemetry.frameEncoded(writer.framesWritten);
    }
    if (this.cancelled?.keepsOpenSegment) await writer.closeOpen();
    else if (this.cancelled) await writer.discardPartial();
    else if (this.o.decoder) await writer.finish();
  }

  /** The rings' abort by a cancel ends a loop's wait with nothing; any other error stays one. */
  private readonly unlessCancelled = (err: unknown): undefined => {
    if (this.cancelled && err === this.cancelled) return undefined;
    throw err;
  };
}
