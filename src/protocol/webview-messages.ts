/**
 * Extension host ↔ monitor webview messages. Compiled into both ends (the panel host in src/extension/monitor and
 * the browser bundle in webview/) so they cannot drift. Every message carries `v`; a message with another version,
 * an unknown type or a malformed body is rejected by the parsers below and the receiver logs and ignores it —
 * nothing that arrives is ever executed. Bump WEBVIEW_PROTOCOL_VERSION on any breaking change.
 *
 * Flow: the webview posts `ready` once its script runs; only then does the host send `init` (a replay of the
 * focused job's recent events plus the backends rows). Afterwards the host streams `engineEvent` and `backends`.
 * Job controls are `request`s with an id; the host answers each with a `reply` carrying the same id.
 * While the panel is visible the host also relays `backendFrame`s: the newest JPEG of each reachable backend's
 * broadcast (≤ 2 a second per backend) for the backends section's thumbnails. An older webview rejects that type
 * like any unknown one (logged, ignored), so it is an addition, not a breaking change.
 */
import { type EngineEvent, parseEngineEvent } from './engine-events';
import { END_PHASES, type EndPhase } from './job-phase';

export const WEBVIEW_PROTOCOL_VERSION = 1;

/** One stream hub / backend as the monitor shows it (the hub client maps its status model onto this row). */
export interface MonitorBackendRow {
  name: string;
  url: string;
  reachable: boolean;
  subscribers?: number;
  fps?: number;
  /** Relay state in words, e.g. 'connected', 'disconnected', 'off'. */
  relay?: string;
  heartbeatAgeS?: number;
  /** The AI core in words: fps in/out, latency p50/p99, drops, devices; 'off' or 'not available' otherwise. */
  ai?: string;
  /** Sources being recorded, 'off', or 'not available' (a hub without recording). */
  recording?: string;
  error?: string;
}

export type JobControlMethod = 'cancel' | 'revealOutput' | 'openLog';
export const JOB_CONTROL_METHODS: readonly JobControlMethod[] = ['cancel', 'revealOutput', 'openLog'];

// ---- host → webview ----

export interface InitMessage {
  v: number;
  type: 'init';
  /** The job the panel shows, or null when no job has run in this window yet. */
  jobId: string | null;
  /** Replay of that job's retained events, oldest first (bounded by the host). */
  events: EngineEvent[];
  /** null until a backends source has reported (the webview then shows its empty state). */
  backends: MonitorBackendRow[] | null;
}

export interface EngineEventMessage {
  v: number;
  type: 'engineEvent';
  jobId: string;
  event: EngineEvent;
}

export interface BackendsMessage {
  v: number;
  type: 'backends';
  rows: MonitorBackendRow[];
}

export interface ReplyMessage {
  v: number;
  type: 'reply';
  id: number;
  ok: boolean;
  error?: string;
}

/** The newest frame of one backend's broadcast (relayed by the extension host from the hub's subscriber socket). */
export interface BackendFrameMessage {
  v: number;
  type: 'backendFrame';
  /** The backend's configured name (matches a `MonitorBackendRow.name`). */
  name: string;
  mime: 'image/jpeg';
  /** The JPEG, base64; at most MAX_BACKEND_FRAME_BASE64_CHARS. */
  data: string;
  /** When the host received it (epoch ms). */
  ts: number;
}

/**
 * A job ended, as the extension saw its engine exit (the same rule as the tree: protocol/job-phase.ts). An engine
 * killed without a last `error` event would otherwise leave the panel on "Running" with Cancel enabled.
 */
export interface JobEndedMessage {
  v: number;
  type: 'jobEnded';
  jobId: string;
  phase: EndPhase;
  /** Why, in words, when it did not end done (the engine's own message, or the extension's for a killed engine). */
  message?: string;
}

export type HostToWebviewMessage =
  | InitMessage
  | EngineEventMessage
  | JobEndedMessage
  | BackendsMessage
  | BackendFrameMessage
  | ReplyMessage;

// ---- webview → host ----

export interface ReadyMessage {
  v: number;
  type: 'ready';
}

export interface RequestMessage {
  v: number;
  type: 'request';
  id: number;
  method: JobControlMethod;
  jobId: string;
}

export interface LogMessage {
  v: number;
  type: 'log';
  level: 'info' | 'warn' | 'error';
  message: string;
}

export type WebviewToHostMessage = ReadyMessage | RequestMessage | LogMessage;

/** Result of validating an incoming message: the typed message, or why it was rejected (for the log). */
export type Parsed<T> = { ok: true; message: T } | { ok: false; reason: string };

const MAX_LOG_CHARS = 2000;
const MAX_BACKEND_ROWS = 64;
const MAX_INIT_EVENTS = 2000;
/** Preview images are small thumbnails; anything bigger is a bug or an attack, not a preview. */
export const MAX_PREVIEW_BASE64_CHARS = 4 * 1024 * 1024;
/** Backend frames share the preview cap: a hub broadcasting bigger JPEGs gets "frame too large" instead of a thumbnail. */
export const MAX_BACKEND_FRAME_BASE64_CHARS = MAX_PREVIEW_BASE64_CHARS;
const MAX_BACKEND_NAME_CHARS = 200;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** base64 of a JPEG's SOI + marker prefix (FF D8 FF): anything else is not a JPEG. */
const JPEG_BASE64_PREFIX = '/9j/';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isOptional = (v: unknown, check: (x: unknown) => boolean): boolean => v === undefined || check(v);
const isNonNegativeInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function reject<T>(reason: string): Parsed<T> {
  return { ok: false, reason };
}

function header(value: unknown): { ok: true; record: Record<string, unknown> } | { ok: false; reason: string } {
  if (!isRecord(value)) return { ok: false, reason: 'not an object' };
  if (value.v !== WEBVIEW_PROTOCOL_VERSION) {
    return { ok: false, reason: `protocol version ${String(value.v)} (expected ${WEBVIEW_PROTOCOL_VERSION})` };
  }
  if (typeof value.type !== 'string') return { ok: false, reason: 'missing type' };
  return { ok: true, record: value };
}

/**
 * Engine events that reach the webview are checked beyond the engine's own parser on the fields the view reads,
 * so a malformed event can neither throw in the renderer nor smuggle non-image data into an <img>.
 */
export function validateEngineEventForView(value: unknown): EngineEvent | undefined {
  const event = parseEngineEvent(value);
  if (!event) return undefined;
  switch (event.type) {
    case 'progress':
      return isFiniteNumber(event.frame) && isFiniteNumber(event.total) && isFiniteNumber(event.fps)
        ? event
        : undefined;
    case 'sample':
      return isFiniteNumber(event.rssBytes) && isFiniteNumber(event.freeDiskBytes) ? event : undefined;
    case 'preview':
      if (event.mime !== 'image/jpeg' && event.mime !== 'image/png') return undefined;
      for (const b64 of [event.input, event.output]) {
        if (typeof b64 !== 'string' || b64.length > MAX_PREVIEW_BASE64_CHARS || !BASE64.test(b64)) return undefined;
      }
      return isFiniteNumber(event.frame) ? event : undefined;
    case 'start':
      return typeof event.input === 'string' && typeof event.output === 'string' ? event : undefined;
    default:
      return event;
  }
}

function isBackendRow(value: unknown): value is MonitorBackendRow {
  if (!isRecord(value)) return false;
  return (
    typeof value.name === 'string' &&
    typeof value.url === 'string' &&
    typeof value.reachable === 'boolean' &&
    isOptional(value.subscribers, isFiniteNumber) &&
    isOptional(value.fps, isFiniteNumber) &&
    isOptional(value.relay, (x) => typeof x === 'string') &&
    isOptional(value.heartbeatAgeS, isFiniteNumber) &&
    isOptional(value.ai, (x) => typeof x === 'string') &&
    isOptional(value.recording, (x) => typeof x === 'string') &&
    isOptional(value.error, (x) => typeof x === 'string')
  );
}

function parseBackendRows(value: unknown): MonitorBackendRow[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_BACKEND_ROWS) return undefined;
  return value.every(isBackendRow) ? (value as MonitorBackendRow[]) : undefined;
}

/** Validates a message arriving in the webview from the host. */
export function parseHostMessage(value: unknown): Parsed<HostToWebviewMessage> {
  const h = header(value);
  if (!h.ok) return h;
  const m = h.record;
  const v = WEBVIEW_PROTOCOL_VERSION;
  switch (m.type) {
    case 'init': {
      if (m.jobId !== null && typeof m.jobId !== 'string') return reject('init: jobId must be a string or null');
      if (!Array.isArray(m.events) || m.events.length > MAX_INIT_EVENTS) return reject('init: events must be a list');
      const events: EngineEvent[] = [];
      for (const raw of m.events) {
        const event = validateEngineEventForView(raw);
        if (event) events.push(event);
      }
      let backends: MonitorBackendRow[] | null = null;
      if (m.backends !== null) {
        const rows = parseBackendRows(m.backends);
        if (!rows) return reject('init: malformed backends rows');
        backends = rows;
      }
      return { ok: true, message: { v, type: 'init', jobId: m.jobId, events, backends } };
    }
    case 'engineEvent': {
      if (typeof m.jobId !== 'string') return reject('engineEvent: missing jobId');
      const event = validateEngineEventForView(m.event);
      if (!event) return reject('engineEvent: malformed engine event');
      return { ok: true, message: { v, type: 'engineEvent', jobId: m.jobId, event } };
    }
    case 'jobEnded': {
      if (typeof m.jobId !== 'string') return reject('jobEnded: missing jobId');
      if (!(END_PHASES as readonly unknown[]).includes(m.phase)) return reject('jobEnded: unknown phase');
      const message = typeof m.message === 'string' ? m.message.slice(0, MAX_LOG_CHARS) : undefined;
      return {
        ok: true,
        message: { v, type: 'jobEnded', jobId: m.jobId, phase: m.phase as EndPhase, ...(message ? { message } : {}) },
      };
    }
    case 'backends': {
      const rows = parseBackendRows(m.rows);
      if (!rows) return reject('backends: malformed rows');
      return { ok: true, message: { v, type: 'backends', rows } };
    }
    case 'backendFrame': {
      if (typeof m.name !== 'string' || m.name.length === 0 || m.name.length > MAX_BACKEND_NAME_CHARS) {
        return reject('backendFrame: missing or overlong name');
      }
      if (m.mime !== 'image/jpeg') return reject(`backendFrame: mime ${JSON.stringify(m.mime)?.slice(0, 40)}`);
      if (typeof m.data !== 'string' || m.data.length > MAX_BACKEND_FRAME_BASE64_CHARS) {
        return reject('backendFrame: data missing or too large');
      }
      if (!m.data.startsWith(JPEG_BASE64_PREFIX) || !BASE64.test(m.data)) return reject('backendFrame: not a JPEG');
      if (!isFiniteNumber(m.ts)) return reject('backendFrame: ts must be a number');
      return {
        ok: true,
        message: { v, type: 'backendFrame', name: m.name, mime: 'image/jpeg', data: m.data, ts: m.ts },
      };
    }
    case 'reply': {
      if (!isNonNegativeInt(m.id) || typeof m.ok !== 'boolean') return reject('reply: needs id and ok');
      if (!isOptional(m.error, (x) => typeof x === 'string')) return reject('reply: error must be a string');
      const error = typeof m.error === 'string' ? m.error : undefined;
      return { ok: true, message: { v, type: 'reply', id: m.id, ok: m.ok, ...(error ? { error } : {}) } };
    }
    default:
      return reject(`unknown type ${JSON.stringify(m.type).slice(0, 60)}`);
  }
}

/** Validates a message arriving in the host from the webview. */
export function parseWebviewMessage(value: unknown): Parsed<WebviewToHostMessage> {
  const h = header(value);
  if (!h.ok) return h;
  const m = h.record;
  const v = WEBVIEW_PROTOCOL_VERSION;
  switch (m.type) {
    case 'ready':
      return { ok: true, message: { v, type: 'ready' } };
    case 'request': {
      if (!isNonNegativeInt(m.id)) return reject('request: id must be a non-negative integer');
      if (typeof m.method !== 'string' || !(JOB_CONTROL_METHODS as readonly string[]).includes(m.method)) {
        return reject(`request: unknown method ${JSON.stringify(m.method)?.slice(0, 60)}`);
      }
      if (typeof m.jobId !== 'string' || m.jobId.length === 0) return reject('request: missing jobId');
      return {
        ok: true,
        message: { v, type: 'request', id: m.id, method: m.method as JobControlMethod, jobId: m.jobId },
      };
    }
    case 'log': {
      if (m.level !== 'info' && m.level !== 'warn' && m.level !== 'error') return reject('log: bad level');
      if (typeof m.message !== 'string') return reject('log: message must be a string');
      return { ok: true, message: { v, type: 'log', level: m.level, message: m.message.slice(0, MAX_LOG_CHARS) } };
    }
    default:
      return reject(`unknown type ${JSON.stringify(m.type).slice(0, 60)}`);
  }
}
