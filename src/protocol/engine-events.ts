/**
 * Engine → extension events. One JSON object per line on stdout (`--json`) or one IPC message when the
 * extension forks the engine. Defined once here and imported by the engine, the extension and the webview so the
 * two ends cannot drift. Bump ENGINE_PROTOCOL_VERSION on any breaking change.
 */
export const ENGINE_PROTOCOL_VERSION = 1;

/** Process exit codes of the `huaju4k` CLI (the contract other tools and tests rely on). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  badInput: 2,
  environment: 3,
  disk: 4,
  cancelled: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface ProbeInfo {
  path: string;
  sizeBytes: number;
  container: string;
  durationS: number;
  /** Coded size of the video stream as decoded (after autorotation). */
  width: number;
  height: number;
  /** Size with the sample aspect ratio applied (square pixels). */
  displayWidth: number;
  displayHeight: number;
  rotation: number;
  sar: [number, number];
  codec: string;
  pixFmt: string;
  bitDepth: number;
  fps: number;
  fpsRational: string;
  vfr: boolean;
  frameCountEstimate: number;
  colorMatrix?: string;
  colorRange?: string;
  colorPrimaries?: string;
  colorTransfer?: string;
  fieldOrder?: string;
  audioStreams: number;
  subtitleStreams: number;
  /** Start time of the video stream relative to the container start, seconds. */
  videoStartS: number;
}

export interface ModelInfo {
  id: string;
  file: string;
  scale: number;
  sha256: string;
}

export interface StageMs {
  decode: number;
  infer: number;
  temporal?: number;
  encode: number;
}

export interface GpuSample {
  index: number;
  name: string;
  usedBytes: number;
  totalBytes: number;
  utilPercent?: number;
}

export type GpuState =
  | { available: false; reason: string }
  | { available: true; gpus: GpuSample[]; budgetBytes: number };

interface EventBase {
  /** Epoch milliseconds when the engine emitted the event. */
  ts: number;
}

/**
 * The sizes a frame goes through (engine size-plan.ts): the model's input and output, then the final resize to
 * `picture`, centred in the start event's `target` frame (bars only with `--fit pad`).
 */
export interface SizePlanInfo {
  modelInput: { width: number; height: number };
  modelOutput: { width: number; height: number };
  picture: { width: number; height: number };
  /** `--same-size` on a source that reaches the target: the source was shrunk to picture ÷ model scale first. */
  sameSize: boolean;
}

export interface StartEvent extends EventBase {
  type: 'start';
  v: number;
  input: string;
  output: string;
  probe: ProbeInfo;
  model: ModelInfo;
  executionProvider: string;
  /** Arithmetic of the model session: 'fp16' (GPU providers under --precision auto), 'int8' (CPU) or 'fp32'. */
  precision: 'fp32' | 'fp16' | 'int8';
  tile: number;
  target: { width: number; height: number };
  plan?: SizePlanInfo;
  totalFrames: number;
  encoder: string;
  resumeFromFrame?: number;
  workDir?: string;
}

export interface ProgressEvent extends EventBase {
  type: 'progress';
  frame: number;
  total: number;
  fps: number;
  etaS: number;
  stageMs: StageMs;
  reuseRatio?: number;
}

export interface SampleEvent extends EventBase {
  type: 'sample';
  rssBytes: number;
  frameBufferBytes: number;
  frameBufferBudgetBytes: number;
  freeDiskBytes: number;
  jobDiskBytes?: number;
  gpu?: GpuState;
}

export interface PreviewEvent extends EventBase {
  type: 'preview';
  frame: number;
  mime: 'image/jpeg' | 'image/png';
  /** base64 of the latest input frame (small) */
  input: string;
  /** base64 of the matching output frame (small) */
  output: string;
  width: number;
  height: number;
}

export interface SegmentEvent extends EventBase {
  type: 'segment';
  index: number;
  startFrame: number;
  endFrame: number;
  bytes: number;
}

/**
 * A farm job (engine farm/): one range of whole segments changed hands. `range` is `first:end` in segments (`first:`
 * for the job's last), `worker` who runs it (a local slot, or host/pid on a farm). `frames` of `total` are done.
 */
export interface RangeEvent extends EventBase {
  type: 'range';
  range: string;
  worker: string;
  state: 'started' | 'progress' | 'segment' | 'done' | 'failed' | 'retry' | 'refused';
  frames: number;
  total: number;
  /** The engine process that runs it (on the host of its worker: this one for --workers/--devices). */
  pid?: number;
  fps?: number;
  message?: string;
}

export interface WarningEvent extends EventBase {
  type: 'warning';
  code: string;
  message: string;
}

export interface ErrorEvent extends EventBase {
  type: 'error';
  code: ExitCode;
  /** Short machine-readable reason, e.g. 'ffmpeg-missing', 'no-video-stream'. */
  reason: string;
  message: string;
  hint?: string;
  /** On a stop that can be resumed (cancel, disk, failure): frames kept in finished segments (0: resume restarts). */
  framesKept?: number;
}

export interface DoneReport {
  model: string;
  executionProvider: string;
  precision: 'fp32' | 'fp16' | 'int8';
  tile: number;
  target: { width: number; height: number };
  avgFps: number;
  stageMs: StageMs;
  peakRssBytes: number;
  outputBytes: number;
  reuseRatio?: number;
  /**
   * The model loop's mean period per frame after the first, ms: its model and temporal work and its waits for flows,
   * decoded frames and room in the encoder's ring — the run's steady time per frame, whichever stage is slowest. The
   * As… estimate times a video's frames by it.
   */
  steadyFrameMs?: number;
  /** --audio clean|stage: the sound's levels as recorded and as treated (after: predicted from the measured chain). */
  audio?: AudioReport;
}

export interface AudioReport {
  mode: 'clean' | 'stage';
  before: { integratedLufs: number; truePeakDb: number; noiseFloorDb: number; speechDb: number };
  after: { integratedLufs: number; noiseFloorDb: number; speechDb: number };
}

export interface DoneEvent extends EventBase {
  type: 'done';
  output: string;
  frames: number;
  seconds: number;
  report: DoneReport;
}

export type EngineEvent =
  | StartEvent
  | ProgressEvent
  | SampleEvent
  | PreviewEvent
  | SegmentEvent
  | RangeEvent
  | WarningEvent
  | ErrorEvent
  | DoneEvent;

export type EngineEventType = EngineEvent['type'];

const EVENT_TYPES: ReadonlySet<string> = new Set<EngineEventType>([
  'start',
  'progress',
  'sample',
  'preview',
  'segment',
  'range',
  'warning',
  'error',
  'done',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Accepts a parsed JSON value or a raw line; returns the event when it has a known type and a numeric timestamp,
 * otherwise undefined (callers log and ignore, never execute, what they do not understand).
 */
/**
 * Beside an engine's events file (which leaves previews out: they would make it grow by a JPEG a second), the newest
 * preview alone, replaced each time: a window that re-attaches after a reload shows the picture again from it.
 */
export function previewFileFor(eventsFile: string): string {
  return `${eventsFile}.preview`;
}

export function parseEngineEvent(input: unknown): EngineEvent | undefined {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      return undefined;
    }
  }
  if (!isRecord(value)) return undefined;
  if (typeof value.type !== 'string' || !EVENT_TYPES.has(value.type)) return undefined;
  if (typeof value.ts !== 'number') return undefined;
  return value as unknown as EngineEvent;
}
