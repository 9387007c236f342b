// Engine events built from the typed protocol (compile-checked against src/protocol/engine-events.ts), shared by
// the monitor's unit tests and the browser test when no recorded engine run is available.
import type {
  DoneEvent,
  ErrorEvent,
  GpuState,
  PreviewEvent,
  ProgressEvent,
  SampleEvent,
  SegmentEvent,
  StartEvent,
  WarningEvent,
} from '../../../src/protocol/engine-events';

export const T0 = 1_700_000_000_000;

export function startEvent(ts = T0, over: Partial<StartEvent> = {}): StartEvent {
  return {
    type: 'start',
    ts,
    v: 1,
    input: '/work/videos/cockatoo.mp4',
    output: '/work/videos/cockatoo.4k.mp4',
    probe: {
      path: '/work/videos/cockatoo.mp4',
      sizeBytes: 250_000,
      container: 'mov,mp4,m4a,3gp,3g2,mj2',
      durationS: 4,
      width: 160,
      height: 90,
      displayWidth: 160,
      displayHeight: 90,
      rotation: 0,
      sar: [1, 1],
      codec: 'h264',
      pixFmt: 'yuv420p',
      bitDepth: 8,
      fps: 25,
      fpsRational: '25/1',
      vfr: false,
      frameCountEstimate: 100,
      audioStreams: 1,
      subtitleStreams: 0,
      videoStartS: 0,
    },
    model: { id: 'realesr-general-x4v3', file: 'models/realesr-general-x4v3.onnx', scale: 4, sha256: 'ab'.repeat(32) },
    executionProvider: 'cpu',
    precision: 'fp32',
    tile: 256,
    target: { width: 3840, height: 2160 },
    totalFrames: 100,
    encoder: 'libx264',
    ...over,
  };
}

export function progressEvent(ts: number, frame: number, over: Partial<ProgressEvent> = {}): ProgressEvent {
  return {
    type: 'progress',
    ts,
    frame,
    total: 100,
    fps: 2 + (frame % 7) / 10,
    etaS: (100 - frame) / 2.3,
    stageMs: { decode: 3.5, infer: 380, temporal: 12, encode: 40 },
    reuseRatio: 0.25,
    ...over,
  };
}

export const cpuGpuState: GpuState = { available: false, reason: 'no NVIDIA GPU found (nvidia-smi is not installed)' };

export function gpuState(usedBytes: number): GpuState {
  return {
    available: true,
    budgetBytes: 6 * 1024 ** 3,
    gpus: [{ index: 0, name: 'NVIDIA GeForce RTX 3060', usedBytes, totalBytes: 12 * 1024 ** 3, utilPercent: 80 }],
  };
}

export function sampleEvent(ts: number, over: Partial<SampleEvent> = {}): SampleEvent {
  return {
    type: 'sample',
    ts,
    rssBytes: 420 * 1024 ** 2,
    frameBufferBytes: 64 * 1024 ** 2,
    frameBufferBudgetBytes: 256 * 1024 ** 2,
    freeDiskBytes: 80 * 1024 ** 3,
    jobDiskBytes: 3 * 1024 ** 2,
    gpu: cpuGpuState,
    ...over,
  };
}

export function previewEvent(ts: number, frame: number, input: string, output: string): PreviewEvent {
  return { type: 'preview', ts, frame, mime: 'image/jpeg', input, output, width: 640, height: 360 };
}

export function segmentEvent(ts: number, index: number, bytes: number): SegmentEvent {
  return { type: 'segment', ts, index, startFrame: index * 50, endFrame: index * 50 + 49, bytes };
}

export function warningEvent(ts: number, message: string): WarningEvent {
  return { type: 'warning', ts, code: 'slow-cpu', message };
}

export function errorEvent(ts: number, code: ErrorEvent['code'], message: string): ErrorEvent {
  return { type: 'error', ts, code, reason: code === 5 ? 'cancelled' : 'ffmpeg-failed', message };
}

export function doneEvent(ts: number, frames: number): DoneEvent {
  return {
    type: 'done',
    ts,
    output: '/work/videos/cockatoo.4k.mp4',
    frames,
    seconds: 43.5,
    report: {
      model: 'realesr-general-x4v3',
      executionProvider: 'cpu',
      precision: 'fp32',
      tile: 256,
      target: { width: 3840, height: 2160 },
      avgFps: 2.3,
      stageMs: { decode: 3.5, infer: 380, temporal: 12, encode: 40 },
      peakRssBytes: 512 * 1024 ** 2,
      outputBytes: 9 * 1024 ** 2,
    },
  };
}
