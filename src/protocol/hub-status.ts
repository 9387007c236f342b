/**
 * Stream-hub status model, shared by the hub server (`src/hub`), the extension's Backends tree and the monitor
 * webview. Defined once so the three cannot drift. Bump HUB_STATUS_VERSION on any breaking change.
 */

export const HUB_STATUS_VERSION = 1;
export const HUB_STATUS_PATH = '/api/v1/stream/status';
export const HUB_SERVICE_NAME = 'huaju4k-hub';

/** blankend's documented status endpoints; shown generically because their fields are not ours to define. */
export const BLANKEND_STATUS_PATHS = [
  '/api/v1/video_processing/pipeline/status',
  '/api/v1/realtime_pipeline/status',
  '/api/v1/ai/status',
] as const;

export type FrameKind = 'raw' | 'processed';

/** Optional JSON text message that precedes a binary JPEG on `/video_in` and on subscriber sockets. */
export interface FrameHeader {
  source?: string;
  kind?: FrameKind;
  seq?: number;
  /** Milliseconds since the Unix epoch (fractions allowed) when the producer made the frame. */
  ts?: number;
}

/** Header the hub sends before each frame to subscribers that asked for headers (`?headers=1`). */
export interface BroadcastHeader extends FrameHeader {
  /** Hub-wide broadcast sequence number, starting at 1. */
  hubSeq: number;
  /** Milliseconds since the Unix epoch when the hub accepted the frame. */
  hubTs: number;
  bytes: number;
}

export type SubscriberPath = '/video_out' | '/video_in' | '/video_codec';

export interface SubscriberStatus {
  id: string;
  path: SubscriberPath;
  remote: string;
  connectedAt: number;
  delivered: number;
  dropped: number;
  queued: number;
  bufferedBytes: number;
}

export interface CounterStatus {
  frames: number;
  bytes: number;
  fps: number;
}

export interface IngestStatus extends CounterStatus {
  /** Frames refused: not a complete JPEG (SOI…EOI), or a header that is not valid JSON. */
  rejected: number;
  /** Messages refused for exceeding the size cap (the socket is closed with 1009). */
  oversized: number;
}

export interface RelayStatus {
  enabled: boolean;
  endpoint: string | null;
  identity: string | null;
  connected: boolean;
  /** True once anything came back from the ROUTER on this connection (an answered link request, a frame). */
  linked: boolean;
  /** Why this hub's frames probably go nowhere (connected, link requests unanswered: a duplicate identity). */
  identityConflict: string | null;
  /** `stale`: data frames dropped for being older than max_frame_age_ms before they could be sent. */
  send: { frames: number; bytes: number; dropped: number; stale: number; queued: number };
  /**
   * `rejected`: data that was not one complete JPEG within max_frame_bytes (dropped, not echoed or broadcast);
   * `malformed`: messages that were not exactly [client_id, data].
   */
  recv: {
    frames: number;
    bytes: number;
    rejected: number;
    malformed: number;
    handled: number;
    forwarded: number;
    broadcast: number;
  };
  /** Milliseconds since the last heartbeat was handed to ZeroMQ; null when heartbeats are off or none was sent. */
  heartbeatAgeMs: number | null;
  /** Milliseconds since anything arrived from the ROUTER; null when nothing arrived yet. */
  lastRecvAgeMs: number | null;
  reconnects: number;
  loops: { send: boolean; recv: boolean; heartbeat: boolean; linkRequest: boolean };
}

export interface AiDeviceStatus {
  /** As configured: `cpu` or a GPU index. */
  id: string;
  executionProvider: string;
  busy: boolean;
  /** Frames this device's worker has run through the model. */
  frames: number;
  /** Tile side it runs with now (0 = whole frame; halved after an out-of-memory). */
  tile: number;
}

/** The AI core at work (`GET /api/v1/ai/status`, and `ai` in the hub status). */
export interface AiStatus {
  enabled: true;
  model: string;
  scale: number;
  target: string | null;
  temporal: string;
  devices: AiDeviceStatus[];
  in: { frames: number; fps: number };
  out: { frames: number; fps: number };
  /** `frames` = replaced by a newer frame of the same source + `stale` (waited too long) + `failed`. */
  dropped: { frames: number; fps: number; stale: number; failed: number };
  /** From a frame's arrival at the hub to its processed JPEG being handed to the subscribers / the bus. */
  latencyMs: { p50: number | null; p99: number | null };
  /** Sources with a frame waiting for a worker (at most one each). */
  queue: number;
  /** Each source's frames out and its temporal stage's state (scene cuts reset it; blended = had a past frame). */
  sources: { id: string; out: number; sceneCuts: number; blendedFrames: number }[];
  lastError: string | null;
}

export interface AiOffStatus {
  enabled: false;
  reason: string;
  model: string;
  devices: [];
  lastError: string | null;
}

/** `--bind-relay`: the ROUTER the hub binds for AI workers to dial in. */
export interface BoundRelayStatus {
  endpoint: string;
  workers: { id: string; sent: number; received: number; outstanding: number; lastSeenAgeMs: number }[];
  /** Sources with a frame waiting for a free worker (one each). */
  waiting: number;
  sent: number;
  received: number;
  /** Replaced by a newer frame of the same source while waiting, or a send that failed. */
  dropped: number;
  stale: number;
  rejected: number;
  malformed: number;
}

export type DecoderMode = 'cuda' | 'cpu';

export interface CodecSessionStatus {
  id: string;
  codec: 'h264' | 'hevc';
  mode: DecoderMode;
  pid: number | null;
  inBytes: number;
  frames: number;
  /** Input kept for replaying into a CPU decoder should the CUDA attempt fail before its first frame. */
  replayBytes: number;
  /** The session's socket is paused until ffmpeg reads what it was fed. */
  backpressured: boolean;
  startedAt: number;
}

export type ResourceKind =
  | 'http-server'
  | 'ws-connection'
  | 'decoder-process'
  | 'recorder-process'
  | 'zmq-socket'
  | 'relay-loop';

/** One live thing the hub holds open: what a user needs to see what is running. */
export interface HubResource {
  kind: ResourceKind;
  id: string;
  detail: string;
}

export interface HubStatus {
  version: typeof HUB_STATUS_VERSION;
  service: typeof HUB_SERVICE_NAME;
  startedAt: number;
  uptimeMs: number;
  config: {
    host: string;
    port: number;
    broadcastSource: 'ingress' | 'relay';
    subscriberQueueSize: number;
    maxFrameBytes: number;
    tokenRequired: boolean;
  };
  ingest: IngestStatus;
  broadcast: CounterStatus;
  subscribers: SubscriberStatus[];
  relay: RelayStatus;
  codecSessions: CodecSessionStatus[];
  ai: AiStatus | AiOffStatus;
  boundRelay: BoundRelayStatus | null;
  resources: HubResource[];
  process: { pid: number; rssBytes: number; heapUsedBytes: number; cpuUserMs: number; cpuSystemMs: number };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Accepts a decoded status body when it is ours and of a version we understand; returns undefined otherwise so
 * the caller can fall back to the generic (blankend) view. Checks the fields the UI relies on, not every leaf.
 */
export function parseHubStatus(body: unknown): HubStatus | undefined {
  if (!isObject(body) || body.service !== HUB_SERVICE_NAME || body.version !== HUB_STATUS_VERSION) return undefined;
  const { ingest, broadcast, relay, subscribers, codecSessions, resources } = body;
  if (!isObject(ingest) || !isObject(broadcast) || !isObject(relay)) return undefined;
  if (!Array.isArray(subscribers) || !Array.isArray(codecSessions) || !Array.isArray(resources)) return undefined;
  if (typeof relay.enabled !== 'boolean' || typeof relay.connected !== 'boolean') return undefined;
  if (typeof broadcast.fps !== 'number' || typeof ingest.fps !== 'number') return undefined;
  return body as unknown as HubStatus;
}

/** Parses a header text message; returns an error string for anything that is not a plain header object. */
export function parseFrameHeader(text: string): FrameHeader | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'header is not valid JSON';
  }
  if (!isObject(value)) return 'header must be a JSON object';
  const header: FrameHeader = {};
  if (value.source !== undefined) {
    if (typeof value.source !== 'string' || value.source.length > 256) return 'header.source must be a short string';
    header.source = value.source;
  }
  if (value.kind !== undefined) {
    if (value.kind !== 'raw' && value.kind !== 'processed') return 'header.kind must be "raw" or "processed"';
    header.kind = value.kind;
  }
  if (value.seq !== undefined) {
    if (typeof value.seq !== 'number' || !Number.isFinite(value.seq)) return 'header.seq must be a number';
    header.seq = value.seq;
  }
  if (value.ts !== undefined) {
    if (typeof value.ts !== 'number' || !Number.isFinite(value.ts)) return 'header.ts must be a number';
    header.ts = value.ts;
  }
  return header;
}
