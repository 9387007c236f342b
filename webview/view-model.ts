/**
 * The monitor's state, derived from host messages by a pure reducer (no DOM, no timers) so the mapping from engine
 * events to what the user sees is unit-tested in plain mocha. Chart series are kept apart in MonitorSeries: bounded
 * rings appended in place, because copying hundreds of points per event would be waste.
 */
import {
  type AudioReport,
  type EngineEvent,
  ExitCode,
  type PreviewEvent,
  type StageMs,
} from '../src/protocol/engine-events';
import { applyRangeEvent, type RangeView } from '../src/protocol/farm-ranges';
import { type EndPhase, endPhase } from '../src/protocol/job-phase';
import type { HostToWebviewMessage, MonitorBackendRow } from '../src/protocol/webview-messages';
import { SeriesRing } from './ring-buffer';

export type JobStatus = 'idle' | 'running' | EndPhase;

export interface JobHeader {
  input: string;
  output: string;
  model: string;
  executionProvider: string;
  precision: 'fp32' | 'fp16' | 'int8';
  tile: number;
  source: { width: number; height: number; fps: number; durationS: number };
  target: { width: number; height: number };
  totalFrames: number;
  encoder: string;
  resumeFromFrame?: number;
  startedTs: number;
}

export interface ProgressView {
  frame: number;
  total: number;
  /** 0..1, clamped */
  fraction: number;
  fps: number;
  etaS: number;
  stageMs: StageMs;
  reuseRatio?: number;
  ts: number;
}

export type GpuView =
  | { mode: 'unknown' }
  | { mode: 'cpu'; reason: string }
  | { mode: 'gpu'; name: string; usedBytes: number; totalBytes: number; budgetBytes: number };

export interface ResourceView {
  rssBytes: number;
  frameBufferBytes: number;
  frameBufferBudgetBytes: number;
  freeDiskBytes: number;
  jobDiskBytes?: number;
  ts: number;
}

/** The latest preview pair, as the engine sent it. */
export type PreviewView = Omit<PreviewEvent, 'type' | 'ts'>;

export interface NoticeView {
  code: string;
  message: string;
  ts: number;
}

export interface ErrorView {
  code: number;
  reason: string;
  message: string;
  hint?: string;
}

export interface DoneView {
  output: string;
  frames: number;
  seconds: number;
  avgFps: number;
  outputBytes: number;
  peakRssBytes: number;
  /** --audio clean|stage: loudness and noise floor before and after. */
  audio?: AudioReport;
}

export interface ViewState {
  jobId: string | null;
  status: JobStatus;
  header: JobHeader | null;
  progress: ProgressView | null;
  resources: ResourceView | null;
  gpu: GpuView;
  preview: PreviewView | null;
  segments: { count: number; bytes: number };
  /** A split job's ranges (`range` events); empty for a job run in one piece. */
  ranges: RangeView[];
  /** Most recent last, at most MAX_WARNINGS. */
  warnings: NoticeView[];
  error: ErrorView | null;
  done: DoneView | null;
  /** null = no backends source has reported yet (empty state). */
  backends: MonitorBackendRow[] | null;
  /** How many events were dropped as belonging to another job (diagnostics). */
  ignoredEvents: number;
  /** The user clicked Cancel and the job has not ended yet. */
  cancelRequested: boolean;
}

export const MAX_WARNINGS = 5;

export function initialViewState(jobId: string | null = null, backends: MonitorBackendRow[] | null = null): ViewState {
  return {
    jobId,
    status: 'idle',
    header: null,
    progress: null,
    resources: null,
    gpu: { mode: 'unknown' },
    preview: null,
    segments: { count: 0, bytes: 0 },
    ranges: [],
    warnings: [],
    error: null,
    done: null,
    backends,
    ignoredEvents: 0,
    cancelRequested: false,
  };
}

const CPU_PROVIDER_REASON = 'The engine runs on the CPU execution provider.';

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

function gpuView(event: Extract<EngineEvent, { type: 'sample' }>, previous: GpuView): GpuView {
  const gpu = event.gpu;
  if (!gpu) return previous;
  if (!gpu.available) return { mode: 'cpu', reason: gpu.reason };
  const first = gpu.gpus[0];
  if (!first) return { mode: 'cpu', reason: 'the engine reported a GPU provider but no device' };
  const usedBytes = gpu.gpus.reduce((s, g) => s + g.usedBytes, 0);
  const totalBytes = gpu.gpus.reduce((s, g) => s + g.totalBytes, 0);
  const name = gpu.gpus.length > 1 ? `${first.name} ×${gpu.gpus.length}` : first.name;
  return { mode: 'gpu', name, usedBytes, totalBytes, budgetBytes: gpu.budgetBytes };
}

function startState(state: ViewState, event: Extract<EngineEvent, { type: 'start' }>): ViewState {
  return {
    ...initialViewState(state.jobId, state.backends),
    status: 'running',
    // The CPU provider needs no GPU sample to know there is no VRAM to chart.
    gpu: event.executionProvider === 'cpu' ? { mode: 'cpu', reason: CPU_PROVIDER_REASON } : { mode: 'unknown' },
    header: {
      input: event.input,
      output: event.output,
      model: event.model.id,
      executionProvider: event.executionProvider,
      precision: event.precision,
      tile: event.tile,
      source: {
        width: event.probe.width,
        height: event.probe.height,
        fps: event.probe.fps,
        durationS: event.probe.durationS,
      },
      target: { ...event.target },
      totalFrames: event.totalFrames,
      encoder: event.encoder,
      ...(event.resumeFromFrame !== undefined ? { resumeFromFrame: event.resumeFromFrame } : {}),
      startedTs: event.ts,
    },
  };
}

function progressView(state: ViewState, event: Extract<EngineEvent, { type: 'progress' }>): ProgressView {
  const total = event.total > 0 ? event.total : (state.header?.totalFrames ?? 0);
  return {
    frame: event.frame,
    total,
    fraction: total > 0 ? clamp01(event.frame / total) : 0,
    fps: event.fps,
    etaS: event.etaS,
    stageMs: { ...event.stageMs },
    ...(event.reuseRatio !== undefined ? { reuseRatio: event.reuseRatio } : {}),
    ts: event.ts,
  };
}

function resourceView(event: Extract<EngineEvent, { type: 'sample' }>): ResourceView {
  return {
    rssBytes: event.rssBytes,
    frameBufferBytes: event.frameBufferBytes,
    frameBufferBudgetBytes: event.frameBufferBudgetBytes,
    freeDiskBytes: event.freeDiskBytes,
    ...(event.jobDiskBytes !== undefined ? { jobDiskBytes: event.jobDiskBytes } : {}),
    ts: event.ts,
  };
}

function errorView(event: Extract<EngineEvent, { type: 'error' }>): ErrorView {
  return {
    code: event.code,
    reason: event.reason,
    message: event.message,
    ...(event.hint ? { hint: event.hint } : {}),
  };
}

/** After a stop, the bar shows what is kept (closed segments), not what was processed: the one truth of progress. */
function keptProgress(state: ViewState, framesKept: number | undefined): ViewState {
  const p = state.progress;
  if (!p || framesKept === undefined || framesKept >= p.frame) return state;
  const fraction = p.total > 0 ? clamp01(framesKept / p.total) : 0;
  return { ...state, progress: { ...p, frame: framesKept, fraction, etaS: 0 } };
}

function doneState(state: ViewState, event: Extract<EngineEvent, { type: 'done' }>): ViewState {
  const progress = state.progress
    ? { ...state.progress, frame: event.frames, total: event.frames, fraction: 1, etaS: 0 }
    : state.progress;
  const { report } = event;
  return {
    ...state,
    status: 'done',
    progress,
    done: {
      output: event.output,
      frames: event.frames,
      seconds: event.seconds,
      avgFps: report.avgFps,
      outputBytes: report.outputBytes,
      peakRssBytes: report.peakRssBytes,
      ...(report.audio ? { audio: report.audio } : {}),
    },
  };
}

/** Applies one engine event of the current job. Returns a new state; never mutates `state`. */
export function applyEngineEvent(state: ViewState, event: EngineEvent): ViewState {
  switch (event.type) {
    case 'start':
      return startState(state, event);
    case 'progress':
      return {
        ...state,
        status: state.status === 'idle' ? 'running' : state.status,
        progress: progressView(state, event),
      };
    case 'sample':
      return { ...state, resources: resourceView(event), gpu: gpuView(event, state.gpu) };
    case 'preview': {
      const { type: _type, ts: _ts, ...preview } = event;
      return { ...state, preview };
    }
    case 'segment':
      return { ...state, segments: { count: state.segments.count + 1, bytes: state.segments.bytes + event.bytes } };
    case 'range':
      return { ...state, ranges: applyRangeEvent(state.ranges, event) };
    case 'warning': {
      const warning = { code: event.code, message: event.message, ts: event.ts };
      return { ...state, warnings: [...state.warnings, warning].slice(-MAX_WARNINGS) };
    }
    case 'error':
      return {
        ...keptProgress(state, event.framesKept),
        status: endPhase(event.code, null, false),
        error: errorView(event),
      };
    case 'done':
      return doneState(state, event);
    default:
      return state;
  }
}

/** The extension's word on how the job ended wins: the engine may have died without saying so. */
function applyJobEnded(state: ViewState, m: Extract<HostToWebviewMessage, { type: 'jobEnded' }>): ViewState {
  if (state.status === m.phase) return state;
  const error =
    m.phase === 'done' ? null : (state.error ?? { code: ExitCode.failure, reason: m.phase, message: m.message ?? '' });
  return { ...state, status: m.phase, error };
}

/**
 * Folds a host message into the state. Events of another job are ignored unless they start a new job (the host
 * follows the newest job), so a late event from a finished job cannot overwrite the current one.
 */
export function reduceView(state: ViewState, message: HostToWebviewMessage): ViewState {
  switch (message.type) {
    case 'init':
      return message.events.reduce(applyEngineEvent, initialViewState(message.jobId, message.backends));
    case 'engineEvent': {
      if (message.jobId === state.jobId) return applyEngineEvent(state, message.event);
      if (message.event.type === 'start' || state.jobId === null) {
        return applyEngineEvent(initialViewState(message.jobId, state.backends), message.event);
      }
      return { ...state, ignoredEvents: state.ignoredEvents + 1 };
    }
    case 'backends':
      return { ...state, backends: message.rows };
    case 'jobEnded':
      return message.jobId === state.jobId ? applyJobEnded(state, message) : state;
    default:
      return state;
  }
}

/** What the monitor says about the job: its status, refined while it runs by what the user and the engine did. */
export type DisplayStatus = JobStatus | 'cancelling' | 'finalizing';

export function displayStatus(state: ViewState): DisplayStatus {
  if (state.status !== 'running') return state.status;
  if (state.cancelRequested) return 'cancelling';
  const p = state.progress;
  // Every frame is upscaled but no `done` yet: the engine joins the segments and verifies the output.
  if (p && p.total > 0 && p.frame >= p.total) return 'finalizing';
  return 'running';
}

/** The user clicked Cancel: say so at once (the engine takes seconds to checkpoint and exit). */
export function requestCancel(state: ViewState): ViewState {
  return state.status === 'running' && !state.cancelRequested ? { ...state, cancelRequested: true } : state;
}

/** The host refused the cancel (the engine had already exited, …): the job is not being cancelled. */
export function cancelRefused(state: ViewState): ViewState {
  return state.cancelRequested ? { ...state, cancelRequested: false } : state;
}

/** Default points per series: a sample per second keeps the last 10 minutes. */
export const SERIES_CAPACITY = 600;

/** The chart series of one job, all bounded rings. x is epoch seconds. */
export class MonitorSeries {
  /** fps */
  readonly throughput: SeriesRing;
  /** RSS, frame buffer */
  readonly memory: SeriesRing;
  /** VRAM used, budget */
  readonly vram: SeriesRing;
  /** free disk, job bytes */
  readonly disk: SeriesRing;

  constructor(readonly capacity = SERIES_CAPACITY) {
    this.throughput = new SeriesRing(capacity, 1);
    this.memory = new SeriesRing(capacity, 2);
    this.vram = new SeriesRing(capacity, 2);
    this.disk = new SeriesRing(capacity, 2);
  }

  /** Returns true when a chart changed. */
  apply(event: EngineEvent): boolean {
    const x = event.ts / 1000;
    if (event.type === 'progress') return this.throughput.push(x, [event.fps]);
    if (event.type !== 'sample') return false;
    this.memory.push(x, [event.rssBytes, event.frameBufferBytes]);
    this.disk.push(x, [event.freeDiskBytes, event.jobDiskBytes ?? null]);
    if (event.gpu?.available) {
      const used = event.gpu.gpus.reduce((s, g) => s + g.usedBytes, 0);
      this.vram.push(x, [used, event.gpu.budgetBytes]);
    }
    return true;
  }

  clear(): void {
    for (const s of [this.throughput, this.memory, this.vram, this.disk]) s.clear();
  }
}
