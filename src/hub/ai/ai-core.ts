/**
 * The hub's AI core: live super-resolution of the frames arriving on `/video_in`, `/video_codec` or the bus. One
 * model worker per device (the engine's inference worker, wrapped in its OOM handling that halves the tile and
 * retries), one temporal stage per source (the engine's, which resets itself on scene cuts), and newest-frame-wins
 * under load: each source has at most one frame waiting for a worker, a newer one replaces it (counted as dropped),
 * and a frame older than `maxFrameAgeMs` when a worker is free is dropped too. Frames of one source may run on
 * several workers at once; their results leave in arrival order.
 */
import { OomDegradingUpscaler } from '../../engine/device/oom';
import { WorkerUpscaler } from '../../engine/inference/infer-worker';
import type { FrameStage, FrameUpscaler } from '../../engine/pipeline/pipeline-types';
import type { Size } from '../../engine/pipeline/target-size';
import { createTemporal, flowFinestPixels } from '../../engine/temporal/create';
import type { TemporalStage } from '../../engine/temporal/temporal-stage';
import type { AiStatus } from '../../protocol/hub-status';
import { FrameCounter } from '../counters';
import { type AiDevice, type AiSettings, deviceWorkerOptions, outputSize } from './ai-settings';
import { JpegEncoderStream } from './jpeg-encoder';
import { decodeJpeg, encodeJpeg, type RgbFrame } from './jpeg-rgb';
import { LatencyWindow } from './latency';

export interface AiInput {
  source: string;
  jpeg: Buffer;
  arrivedAt: number;
  /** The producer's sequence number for the frame (its header's `seq`), passed on with the processed frame. */
  seq?: number;
}

/** A processed frame for its source, with its input's arrival time and seq (else the core's count per source). */
export type AiOutput = (source: string, jpeg: Buffer, arrivedAt: number, seq: number) => void;

interface Slot {
  device: AiDevice;
  upscaler: FrameUpscaler;
  executionProvider: string;
  tile: () => number;
  busy: boolean;
  frames: number;
}

interface Result {
  input: RgbFrame;
  output: Buffer;
  arrivedAt: number;
  seq?: number;
}

interface SourceState {
  waiting: AiInput | null;
  dispatched: number;
  nextOut: number;
  /** Results by dispatch number; null = that frame failed (skipped in order). */
  done: Map<number, Result | null>;
  stages: FrameStage[];
  /** The engine's temporal stage for this source (absent with --temporal off), for its counters. */
  temporal?: TemporalStage;
  /** Frames of this source sent out. */
  out: number;
  size: string;
  /** One ffmpeg encoding this source's frames (its output size is fixed until the picture size changes). */
  encoder: JpegEncoderStream | null;
  flushing: Promise<void>;
}

export class AiCore {
  private readonly sources = new Map<string, SourceState>();
  private readonly inCounter = new FrameCounter();
  private readonly outCounter = new FrameCounter();
  private readonly dropCounter = new FrameCounter();
  private readonly latency = new LatencyWindow(1024);
  private stale = 0;
  private failed = 0;
  private lastError: string | null = null;
  private closed = false;
  /** Round-robin start for picking the next source, so one busy source cannot starve another. */
  private turn = 0;

  private constructor(
    readonly settings: AiSettings,
    private readonly slots: Slot[],
    private readonly modelId: string,
    private readonly scale: number,
    private readonly onOutput: AiOutput,
  ) {}

  /** Starts one worker per device and loads the model in each; rejects with the loader's error. */
  static async start(settings: AiSettings, onOutput: AiOutput): Promise<AiCore> {
    const cpuWorkers = settings.devices.filter((d) => d.kind === 'cpu').length;
    const started = await Promise.allSettled(
      settings.devices.map((d) => WorkerUpscaler.start(deviceWorkerOptions(settings, d, cpuWorkers))),
    );
    const workers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failure = started.find((r) => r.status === 'rejected');
    if (failure) {
      await Promise.all(workers.map((w) => w.close()));
      throw (failure as PromiseRejectedResult).reason;
    }
    const slots: Slot[] = [];
    const core = new AiCore(settings, slots, workers[0].model.id, workers[0].scale, onOutput);
    workers.forEach((w, i) => {
      const device = settings.devices[i];
      const onWarning = (warning: { message: string }) => {
        core.lastError = `${device.id}: ${warning.message}`;
      };
      // A GPU worker that `auto` moved off its GPU (no provider, or one that cannot choose that GPU) says so.
      const passed = w.warnings.filter((x) => x.code === 'ep-fallback').map((x) => x.message.split('. ')[0]);
      if (device.kind === 'gpu' && passed.length > 0) onWarning({ message: passed.join('; ') });
      slots.push({
        device,
        upscaler: new OomDegradingUpscaler(w, { onWarning }),
        executionProvider: w.model.executionProvider,
        tile: () => w.tile,
        busy: false,
        frames: 0,
      });
    });
    core.closers = workers.map((w) => () => w.close());
    return core;
  }

  private closers: (() => Promise<void>)[] = [];

  /** Takes a frame for `source`; a frame of it still waiting for a worker is dropped (newest wins). */
  offer(input: AiInput): void {
    if (this.closed) return;
    this.inCounter.add(input.jpeg.length, input.arrivedAt);
    const src = this.source(input.source);
    if (src.waiting) this.drop();
    src.waiting = input;
    this.dispatch();
  }

  private drop(): void {
    this.dropCounter.add(0);
  }

  private source(id: string): SourceState {
    let s = this.sources.get(id);
    if (!s) {
      s = {
        waiting: null,
        dispatched: 0,
        nextOut: 0,
        done: new Map(),
        stages: [],
        out: 0,
        size: '',
        encoder: null,
        flushing: Promise.resolve(),
      };
      this.sources.set(id, s);
    }
    return s;
  }

  /** The next waiting frame, round-robin over sources; frames past the age limit are dropped on the way. */
  private nextWaiting(): [string, SourceState, AiInput] | undefined {
    const ids = [...this.sources.keys()];
    for (let k = 0; k < ids.length; k++) {
      const id = ids[(this.turn + k) % ids.length];
      const src = this.sources.get(id) as SourceState;
      const job = src.waiting;
      // A source whose finished frames still wait to be encoded gets no new one: its frames wait (newest wins)
      // instead of piling up behind a slow encoder.
      if (!job || src.dispatched - src.nextOut > this.slots.length) continue;
      src.waiting = null;
      if (Date.now() - job.arrivedAt > this.settings.maxFrameAgeMs) {
        this.stale++;
        this.drop();
        continue;
      }
      this.turn = (this.turn + k + 1) % ids.length;
      return [id, src, job];
    }
    return undefined;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.closed) continue;
      const next = this.nextWaiting();
      if (!next) return;
      const [id, src, job] = next;
      const seq = src.dispatched++;
      slot.busy = true;
      void this.run(slot, job)
        .then((result) => src.done.set(seq, result))
        .catch((err: unknown) => {
          this.failed++;
          this.drop();
          this.lastError = `${job.source}: ${err instanceof Error ? err.message : String(err)}`;
          src.done.set(seq, null);
        })
        .finally(() => {
          slot.busy = false;
          this.flush(id, src);
          this.dispatch();
        });
    }
  }

  private async run(slot: Slot, job: AiInput): Promise<Result> {
    const input = await decodeJpeg(this.settings.ffmpeg, job.jpeg);
    const output = await slot.upscaler.upscale(input.rgb, input.width, input.height);
    slot.frames++;
    return { input, output, arrivedAt: job.arrivedAt, seq: job.seq };
  }

  /** Sends the source's finished frames in dispatch order (temporal stage, then JPEG), one flush at a time. */
  private flush(id: string, src: SourceState): void {
    src.flushing = src.flushing.then(async () => {
      while (src.done.has(src.nextOut) && !this.closed) {
        const seq = src.nextOut++;
        const result = src.done.get(seq);
        src.done.delete(seq);
        if (!result) continue;
        try {
          const jpeg = await this.finish(src, seq, result);
          this.outCounter.add(jpeg.length);
          src.out++;
          this.latency.add(Date.now() - result.arrivedAt);
          this.onOutput(id, jpeg, result.arrivedAt, result.seq ?? seq);
          this.dispatch(); // room for the next frame of this source
        } catch (err) {
          this.failed++;
          this.drop();
          this.lastError = `${id}: ${err instanceof Error ? err.message : String(err)}`;
        }
      }
    });
  }

  private async finish(src: SourceState, seq: number, r: Result): Promise<Buffer> {
    const inputSize: Size = { width: r.input.width, height: r.input.height };
    const modelSize: Size = { width: inputSize.width * this.scale, height: inputSize.height * this.scale };
    const key = `${inputSize.width}x${inputSize.height}`;
    if (src.size !== key || !src.encoder || src.encoder.failed) {
      // A new source, its picture size changed, or its encoder died: fresh temporal state (the engine's stage, per
      // source) and a fresh encoder.
      src.size = key;
      const { settings } = this;
      const parts = createTemporal(this.slots[0].upscaler, {
        strength: settings.temporal,
        reuse: false,
        flowFinestPixels: flowFinestPixels(),
      });
      src.stages = parts.stages;
      src.temporal = parts.stage;
      void src.encoder?.close();
      const out = outputSize(inputSize, this.scale, settings);
      src.encoder = new JpegEncoderStream(settings.ffmpeg, modelSize, out, settings.jpegQuality, 1 << 30);
    }
    let frame = { index: seq, input: r.input.rgb, inputSize, output: r.output, outputSize: modelSize };
    for (const stage of src.stages) frame = await stage.process(frame);
    return src.encoder.encode(frame.output);
  }

  /** One JPEG through a free worker (or the first to free up), no temporal state: `POST /api/v1/ai/process`. */
  async processOne(jpeg: Buffer): Promise<Buffer> {
    const slot = this.slots.find((s) => !s.busy) ?? this.slots[0];
    const input = await decodeJpeg(this.settings.ffmpeg, jpeg);
    const output = await slot.upscaler.upscale(input.rgb, input.width, input.height);
    const size: Size = { width: input.width, height: input.height };
    const rgb: RgbFrame = { rgb: output, width: input.width * this.scale, height: input.height * this.scale };
    return encodeJpeg(
      rgb,
      outputSize(size, this.scale, this.settings),
      this.settings.jpegQuality,
      this.settings.ffmpeg,
    );
  }

  /** Forgets a source's state (its client went away). */
  forget(source: string): void {
    void this.sources.get(source)?.encoder?.close();
    this.sources.delete(source);
  }

  status(): AiStatus {
    const now = Date.now();
    const s = this.settings;
    return {
      enabled: true,
      model: this.modelId,
      scale: this.scale,
      target: s.target ? `${s.target.width}x${s.target.height}` : null,
      temporal: s.temporal,
      devices: this.slots.map((slot) => ({
        id: slot.device.id,
        executionProvider: slot.executionProvider,
        busy: slot.busy,
        frames: slot.frames,
        tile: slot.tile(),
      })),
      in: { frames: this.inCounter.frames, fps: this.inCounter.fps(now) },
      out: { frames: this.outCounter.frames, fps: this.outCounter.fps(now) },
      dropped: {
        frames: this.dropCounter.frames,
        fps: this.dropCounter.fps(now),
        stale: this.stale,
        failed: this.failed,
      },
      latencyMs: { p50: this.latency.quantile(0.5), p99: this.latency.quantile(0.99) },
      queue: [...this.sources.values()].filter((src) => src.waiting).length,
      sources: [...this.sources].map(([id, src]) => ({
        id,
        out: src.out,
        sceneCuts: src.temporal?.sceneCuts ?? 0,
        blendedFrames: src.temporal?.blendedFrames ?? 0,
      })),
      lastError: this.lastError,
    };
  }

  /** Waits until nothing is waiting, running or being sent (tests, and a clean stop). */
  async idle(): Promise<void> {
    for (;;) {
      const busy = this.slots.some((s) => s.busy) || [...this.sources.values()].some((s) => s.waiting);
      await Promise.all([...this.sources.values()].map((s) => s.flushing));
      if (!busy) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const encoders = [...this.sources.values()].flatMap((s) => (s.encoder ? [s.encoder.close()] : []));
    await Promise.all([...this.closers.map((c) => c()), ...encoders]);
  }
}
