import { access, constants, rename, rm, stat, statfs } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { type DoneEvent, ExitCode, type StageMs } from '../protocol/engine-events';
import { children } from './children';
import { type DecodedFrame, FrameDecoder } from './decoder';
import { type EncoderSettings, FrameEncoder } from './encoder';
import { CancelledError, EngineError } from './errors';
import type { Emit } from './events';
import type { FfmpegTools } from './ffmpeg-tools';
import { FrameRing, splitBudget } from './frame-ring';
import { previewJpeg } from './preview';
import { type MediaInfo, toProbeInfo } from './probe';
import { containerOf } from './stream-map';
import { resolveTarget, type Size } from './target-size';
import { countVideoPackets } from './verify';

/** The parts of model/loader.ts's LoadedModel the pipeline reports (the session itself lives in the worker). */
export interface EngineModel {
  id: string;
  path: string;
  scale: number;
  sha256: string;
  executionProvider: string;
}

/** Anything that turns a low-res RGB24 frame into a ×scale RGB24 frame (the tiled model, or a reuse-aware one). */
export interface FrameUpscaler {
  readonly scale: number;
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
}

export const DEFAULT_BUFFER_MB = 1024;
const PROGRESS_EVERY_MS = 250;
const SAMPLE_EVERY_MS = 1000;
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

async function freeDiskBytes(dir: string): Promise<number> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return 0;
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

/**
 * decode → ring → model (tiles) → stages → ring → encode, all in memory. The three loops run concurrently: ORT
 * works on its own threads while the JS thread moves bytes through the pipes; the rings' byte budget is the
 * backpressure. Any failure (or the abort signal) stops every loop, kills the ffmpeg children and removes the
 * partial file; success renames it to the output after its frame count is verified.
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
  const total =
    opts.maxFrames !== undefined ? Math.min(opts.maxFrames, info.frameCountEstimate) : info.frameCountEstimate;
  const budget = (opts.bufferMb ?? DEFAULT_BUFFER_MB) * 2 ** 20;
  const [inBudget, outBudget] = splitBudget(
    budget,
    inSize.width * inSize.height * 3,
    outSize.width * outSize.height * 3,
  );
  const partial = partialPathFor(output);
  await rm(partial, { force: true });

  emit({
    type: 'start',
    v: 1,
    input: info.path,
    output,
    probe: toProbeInfo(info),
    model: { id: model.id, file: model.path, scale, sha256: model.sha256 },
    executionProvider: model.executionProvider,
    tile,
    target,
    totalFrames: total,
    encoder: opts.encoder.codec,
  });

  const decoder = new FrameDecoder({ ffmpeg: tools.ffmpeg, info, maxFrames: opts.maxFrames });
  const encoder = new FrameEncoder({
    ffmpeg: tools.ffmpeg,
    output: partial,
    frameSize: outSize,
    target,
    fpsRational: info.vfr && info.durationS > 0 ? `${total}/${info.durationS}` : info.fpsRational,
    settings: opts.encoder,
    source: info,
    maxFrames: opts.maxFrames,
    videoStartS: info.videoStartS,
  });
  for (const w of encoder.warnings) emit({ type: 'warning', ...w });
  if (info.vfr) {
    emit({
      type: 'warning',
      code: 'vfr-source',
      message: 'variable frame rate source: every frame is kept, timed at the average rate',
    });
  }

  const inRing = new FrameRing<DecodedFrame>(inBudget);
  const outRing = new FrameRing<PipelineFrame>(outBudget);
  const clock = new StageClock();
  const stages = ctx.stages ?? [];
  let encoded = 0;
  let peakRss = process.memoryUsage.rss();
  let lastProgress = 0;
  let lastSample = 0;
  let lastPreview = 0;
  let previewBusy = false;
  let failure: Error | undefined;

  const fail = (err: Error): void => {
    if (failure) return;
    failure = err;
    inRing.abort(err);
    outRing.abort(err);
    decoder.kill();
    encoder.kill();
  };
  const onAbort = () => fail(new CancelledError(String(opts.signal?.reason ?? 'signal')));
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const sample = async (now: number) => {
    const rss = process.memoryUsage.rss();
    peakRss = Math.max(peakRss, rss);
    if (now - lastSample < SAMPLE_EVERY_MS) return;
    lastSample = now;
    emit({
      type: 'sample',
      rssBytes: rss,
      frameBufferBytes: inRing.usedBytes + outRing.usedBytes,
      frameBufferBudgetBytes: budget,
      freeDiskBytes: await freeDiskBytes(dirname(output)),
    });
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
    const it = decoder.frames();
    for (;;) {
      const t = performance.now();
      const next = await it.next();
      if (next.done) break;
      clock.add('decode', performance.now() - t);
      await inRing.push(next.value, next.value.data.length);
    }
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
      const t = performance.now();
      await encoder.write(f.output);
      clock.add('encode', performance.now() - t);
      encoded++;
      const now = Date.now();
      await sample(now);
      maybePreview(f, now);
      if (now - lastProgress >= PROGRESS_EVERY_MS || encoded === total) {
        lastProgress = now;
        const secs = (now - t0) / 1000;
        const fps = secs > 0 ? encoded / secs : 0;
        emit({
          type: 'progress',
          frame: encoded,
          total: Math.max(total, encoded),
          fps,
          etaS: fps > 0 ? Math.max(0, total - encoded) / fps : 0,
          stageMs: clock.snapshot(stages.length > 0),
        });
      }
    }
    await encoder.finish();
  };

  const guard = (p: Promise<void>) =>
    p.catch((err: unknown) => {
      fail(err instanceof Error ? err : new Error(String(err)));
    });
  try {
    await Promise.all([guard(decodeLoop()), guard(inferLoop()), guard(encodeLoop())]);
    if (failure) throw failure;
    if (encoded === 0) {
      throw new EngineError(ExitCode.badInput, 'no-frames', `no video frames could be decoded from ${info.path}`);
    }
    const packets = await countVideoPackets(tools.ffprobe, partial);
    if (packets !== encoded) {
      throw new EngineError(
        ExitCode.failure,
        'output-incomplete',
        `output check failed: ${packets} video frames in ${partial}, ${encoded} written`,
      );
    }
    await rename(partial, output);
  } catch (err) {
    fail(err instanceof Error ? err : new Error(String(err)));
    children.killAll();
    await children.reaped();
    await rm(partial, { force: true });
    throw failure ?? err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const seconds = (Date.now() - t0) / 1000;
  const outputBytes = (await stat(output)).size;
  const done: DoneEvent = {
    type: 'done',
    ts: Date.now(),
    output,
    frames: encoded,
    seconds,
    report: {
      model: model.id,
      executionProvider: model.executionProvider,
      tile,
      target,
      avgFps: encoded / seconds,
      stageMs: clock.snapshot(stages.length > 0),
      peakRssBytes: peakRss,
      outputBytes,
    },
  };
  const { ts: _ts, ...payload } = done;
  emit(payload);
  return done;
}
