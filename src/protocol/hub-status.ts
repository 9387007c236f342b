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

export type RecordKind = 'raw' | 'processed';

/** One recording in progress (`record/start`): a source's frames, as received or processed, written to `path`. */
export interface RecordingStatus {
  source: string;
  kind: RecordKind;
  path: string;
  frames: number;
  /** Frames not written because ffmpeg was behind (more than ~32 MiB waiting). */
  dropped: number;
  startedAt: number;
  error: string | null;
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
  recordings: RecordingStatus[];
  boundRelay: BoundRelayStatus | null;
  resources: HubResource[];
  process: { pid: number; rssBytes: number; heapUsedBytes: number; cpuUserMs: number; cpuSystemMs: number };
}

/**
 * A hub status as a client receives it: a hub from before the AI core and recording has neither (null then), and
 * a malformed AI or recording part is null too rather than breaking whoever shows the rest.
 */
export type ReceivedHubStatus = Omit<HubStatus, 'ai' | 'recordings'> & {
  ai: AiStatus | AiOffStatus | null;
  recordings: RecordingStatus[] | null;
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull = (v: unknown) => v === null || isNum(v);
const isStrOrNull = (v: unknown) => v === null || typeof v === 'string';
/** Every key of `keys` holds a finite number in `o`. */
const numbers = (o: unknown, ...keys: string[]) => isObject(o) && keys.every((k) => isNum(o[k]));
const listOf = (v: unknown, each: (x: Record<string, unknown>) => boolean) =>
  Array.isArray(v) && v.every((x) => isObject(x) && each(x));

const isAiDevice = (d: Record<string, unknown>) =>
  typeof d.id === 'string' &&
  typeof d.executionProvider === 'string' &&
  typeof d.busy === 'boolean' &&
  numbers(d, 'frames', 'tile');

function isAiOn(a: Record<string, unknown>): boolean {
  const latency = a.latencyMs;
  return (
    isNum(a.scale) &&
    isStrOrNull(a.target) &&
    typeof a.temporal === 'string' &&
    numbers(a.in, 'frames', 'fps') &&
    numbers(a.out, 'frames', 'fps') &&
    numbers(a.dropped, 'frames', 'fps', 'stale', 'failed') &&
    isObject(latency) &&
    isNumOrNull(latency.p50) &&
    isNumOrNull(latency.p99) &&
    isNum(a.queue) &&
    listOf(a.sources, (x) => typeof x.id === 'string' && numbers(x, 'out', 'sceneCuts', 'blendedFrames'))
  );
}

/**
 * Accepts the AI core's status (`GET /api/v1/ai/status`, or `ai` in the hub status) when every field a view shows
 * has its type; undefined for anything else (an older hub, blankend's own shape), so the caller says "not available".
 */
export function parseAiStatus(body: unknown): AiStatus | AiOffStatus | undefined {
  if (!isObject(body) || typeof body.model !== 'string' || !isStrOrNull(body.lastError)) return undefined;
  if (!listOf(body.devices, isAiDevice)) return undefined;
  if (body.enabled === true && isAiOn(body)) return body as unknown as AiStatus;
  if (body.enabled === false && typeof body.reason === 'string') return body as unknown as AiOffStatus;
  return undefined;
}

/** Accepts a list of recordings in progress (the hub status's `recordings`); undefined when any entry is malformed. */
export function parseRecordings(body: unknown): RecordingStatus[] | undefined {
  const ok = listOf(
    body,
    (r) =>
      typeof r.source === 'string' &&
      (r.kind === 'raw' || r.kind === 'processed') &&
      typeof r.path === 'string' &&
      numbers(r, 'frames', 'dropped', 'startedAt') &&
      isStrOrNull(r.error),
  );
  return ok ? (body as RecordingStatus[]) : undefined;
}

/**
 * Accepts a decoded status body when it is ours and of a version we understand; returns undefined otherwise so
 * the caller can fall back to the generic (blankend) view. Checks the fields the UI relies on, not every leaf; the
 * AI core and recordings are checked leaf by leaf and null when absent or malformed (an older hub).
 */
export function parseHubStatus(body: unknown): ReceivedHubStatus | undefined {
  if (!isObject(body) || body.service !== HUB_SERVICE_NAME || body.version !== HUB_STATUS_VERSION) return undefined;
  const { ingest, broadcast, relay, subscribers, codecSessions, resources } = body;
  if (!isObject(ingest) || !isObject(broadcast) || !isObject(relay)) return undefined;
  if (!Array.isArray(subscribers) || !Array.isArray(codecSessions) || !Array.isArray(resources)) return undefined;
  if (typeof relay.enabled !== 'boolean' || typeof relay.connected !== 'boolean') return undefined;
  if (typeof broadcast.fps !== 'number' || typeof ingest.fps !== 'number') return undefined;
  const ai = parseAiStatus(body.ai) ?? null;
  const recordings = parseRecordings(body.recordings) ?? null;
  return { ...(body as unknown as Omit<HubStatus, 'ai' | 'recordings'>), ai, recordings };
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
