/**
 * blankend's status and control API, answered from the hub's real state in blankend's response shapes
 * (`{"status": {...}}` for the pipeline and codec endpoints, `{ts, gpu_available, ...}` for GPU status,
 * `{ok, path}` for recording). The hub broadcasts frames as they arrive: it has no processing queue and no realtime
 * matting pipeline, so those report `enabled: false` and refuse to be switched on with a message saying so, rather
 * than pretending. The AI endpoints (`/api/v1/ai/*`) are answered by the AI core's host (ai/ai-host.ts).
 */
import type { HubStatus } from '../protocol/hub-status';
import type { RecordingStatus } from './recorder';

export interface BlankendApiContext {
  status(): HubStatus;
  /** Whether ffmpeg lists the CUDA hwaccel and an NVIDIA device node exists (what /video_codec would use). */
  cudaDecode(): boolean;
  /** `?codec=` names /video_codec accepts. */
  codecNames: string;
  /** What records now (recorder.ts). */
  recordings(): RecordingStatus[];
}

export interface ApiAnswer {
  code: number;
  body: unknown;
  allow?: string;
}

type Handler = (ctx: BlankendApiContext, body: Record<string, unknown>) => ApiAnswer;

const NO_PIPELINE = 'the huaju4k hub broadcasts frames as they arrive; it has no processing queue or re-encoder';
const NO_REALTIME = 'the huaju4k hub has no realtime pipeline (matting, depth fusion); it records (record/start)';

function pipelineStatus(s: HubStatus): Record<string, unknown> {
  return {
    enabled: false,
    reason: NO_PIPELINE,
    queue_size: s.config.subscriberQueueSize,
    reencode_enabled: false,
    jpeg_quality: null,
    recv_frames: s.ingest.frames,
    recv_bytes: s.ingest.bytes,
    recv_fps: s.ingest.fps,
    rejected: s.ingest.rejected,
    broadcast_frames: s.broadcast.frames,
    broadcast_fps: s.broadcast.fps,
    clients: s.subscribers.length,
    dropped: s.subscribers.reduce((n, sub) => n + sub.dropped, 0),
    codec_sessions: s.codecSessions.length,
  };
}

function realtimeStatus(ctx: BlankendApiContext): Record<string, unknown> {
  const recording = ctx.recordings();
  return {
    enabled: false,
    reason: NO_REALTIME,
    clients: 0,
    recording_clients: recording.map((r) => r.source),
    recordings: recording,
    sent: 0,
    dropped: 0,
    models: null,
  };
}

/** Applies a config request: switching a missing service on is refused; off / no-op keys are accepted. */
function configure(
  body: Record<string, unknown>,
  known: readonly string[],
  refusals: Record<string, (v: unknown) => string | null>,
): string | null {
  for (const [key, value] of Object.entries(body)) {
    if (!known.includes(key)) return `unknown key ${key}: this endpoint takes ${known.join(', ')}`;
    const refusal = refusals[key]?.(value);
    if (refusal) return refusal;
  }
  return null;
}

const onlyFalse =
  (why: string) =>
  (v: unknown): string | null =>
    v === false || v === null ? null : why;

const PIPELINE_KEYS = [
  'enabled',
  'queue_size',
  'decode_workers',
  'encode_workers',
  'reencode_enabled',
  'jpeg_quality',
  'heartbeat_timeout_s',
] as const;

const pipelineConfig: Handler = (ctx, body) => {
  const refusal = configure(body, PIPELINE_KEYS, {
    enabled: onlyFalse(`enabled: ${NO_PIPELINE}`),
    reencode_enabled: onlyFalse('reencode_enabled: the hub does not re-encode JPEGs (frames are passed through)'),
    jpeg_quality: onlyFalse('jpeg_quality: the hub does not re-encode JPEGs; set mjpeg_quality for /video_codec'),
    queue_size: onlyFalse('queue_size: set subscriber_queue_size in the hub config and restart it'),
    decode_workers: onlyFalse('decode_workers: the hub runs one ffmpeg per /video_codec connection'),
    encode_workers: onlyFalse('encode_workers: the hub has no encode workers'),
  });
  if (refusal) return { code: 400, body: { detail: refusal } };
  return { code: 200, body: { status: pipelineStatus(ctx.status()) } };
};

const REALTIME_KEYS = [
  'enabled',
  'force_cuda',
  'latest_frame_only',
  'output_jpeg_quality',
  'depth_fusion',
  'depth_threshold',
  'depth_alpha_boost',
  'background_mode',
  'background_jpeg_path',
  'max_fps',
  'auto_degrade',
  'degrade_depth_if_slow_ms',
] as const;

const realtimeConfig: Handler = (ctx, body) => {
  const refusal = configure(body, REALTIME_KEYS, { enabled: onlyFalse(`enabled: ${NO_REALTIME}`) });
  if (refusal) return { code: 400, body: { detail: refusal } };
  return { code: 200, body: { status: realtimeStatus(ctx) } };
};

function gpuStatus(ctx: BlankendApiContext): ApiAnswer {
  const cuda = ctx.cudaDecode();
  return {
    code: 200,
    body: {
      ts: Date.now() / 1000,
      gpu_available: cuda,
      onnxruntime: { used: false, note: 'the AI core reports its providers in /api/v1/ai/status' },
      cuda: { ffmpeg_hwaccel_cuda: cuda },
      metrics: {},
    },
  };
}

function codecStatus(ctx: BlankendApiContext): ApiAnswer {
  const s = ctx.status();
  return {
    code: 200,
    body: {
      status: {
        cuda_hwaccel: ctx.cudaDecode(),
        codecs: ctx.codecNames,
        sessions: s.codecSessions.map((c) => ({ id: c.id, codec: c.codec, mode: c.mode, frames: c.frames })),
      },
    },
  };
}

const ROUTES: Record<string, { method: 'GET' | 'POST'; handler: Handler }> = {
  '/api/v1/video_processing/pipeline/status': {
    method: 'GET',
    handler: (ctx) => ({ code: 200, body: { status: pipelineStatus(ctx.status()) } }),
  },
  '/api/v1/video_processing/pipeline/config': { method: 'POST', handler: pipelineConfig },
  '/api/v1/video_processing/gpu/status': { method: 'GET', handler: gpuStatus },
  '/api/v1/video_processing/codec/status': { method: 'GET', handler: codecStatus },
  '/api/v1/realtime_pipeline/status': {
    method: 'GET',
    handler: (ctx) => ({ code: 200, body: { status: realtimeStatus(ctx) } }),
  },
  '/api/v1/realtime_pipeline/config': { method: 'POST', handler: realtimeConfig },
};

/** True when `path` is one of blankend's API paths the hub answers. */
export function isBlankendApiPath(path: string): boolean {
  return Object.hasOwn(ROUTES, path);
}

/** Answers one request to a blankend API path (see isBlankendApiPath); `body` is the parsed JSON object or {}. */
export function answerBlankendApi(
  ctx: BlankendApiContext,
  method: string,
  path: string,
  body: Record<string, unknown>,
): ApiAnswer {
  const route = ROUTES[path];
  const allowed = route.method === 'GET' ? ['GET', 'HEAD'] : ['POST'];
  if (!allowed.includes(method)) {
    return { code: 405, body: { detail: `use ${route.method} for ${path}` }, allow: route.method };
  }
  return route.handler(ctx, body);
}
