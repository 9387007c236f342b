/**
 * Hub configuration: defaults < JSON file (`{"stream": {...}}` like blankend's config.json, or the keys at top
 * level) < environment < command-line flags. Keys mirror the seed's `stream` section so a blankend config file
 * can be reused as is; keys the seed did not have are ours (host, port, token, broadcast_source, queue sizes).
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL_ID } from '../engine/model/catalog';
import { DEFAULT_TEMPORAL_STRENGTH } from '../engine/temporal/strength';
import { type AiSettings, parseDevices, parseScale, parseTarget, parseTemporal } from './ai/ai-settings';

export type BroadcastSource = 'ingress' | 'relay';

export interface RelayConfig {
  endpoint: string;
  identity: string;
  sendQueueSize: number;
  defaultClientId: string;
  controlClientId: string;
  echoBack: boolean;
  forwardRecvEnabled: boolean;
  forwardRecvClientIds: string[];
  forwardRecvOnly: boolean;
  heartbeatEnabled: boolean;
  heartbeatIntervalMs: number;
  heartbeatPayload: Buffer | null;
  linkRequestEnabled: boolean;
  linkRequestPayload: Buffer | null;
  linkRequestTimeoutMs: number;
  linkRequestRetryIntervalMs: number;
  linkRequestMaxRetries: number;
  reconnectIntervalMs: number;
  /** Queued data frames older than this are dropped (counted as stale), never sent late. */
  maxFrameAgeMs: number;
}

export interface HubConfig {
  host: string;
  port: number;
  token: string | null;
  /** Host names served besides IP literals, localhost and `host` (DNS rebinding guard); '*' = any. */
  allowedHosts: string[];
  /** Page origins allowed besides loopback pages (cross-site WebSocket guard); '*' = any. */
  allowedOrigins: string[];
  maxFrameBytes: number;
  subscriberQueueSize: number;
  /** The single source of truth for what subscribers receive (seed risk 4): local ingress, or the relay's return. */
  broadcastSource: BroadcastSource;
  preferGpu: boolean;
  mjpegQuality: number;
  /** /video_codec frames leave at the stream's own frame rate (an upload faster than real time is paced). */
  paceCodecOutput: boolean;
  /** Period of the throughput log line (recv/broadcast/relay/decoded fps); 0 = off. */
  logIntervalMs: number;
  /** A request body not complete within this is answered 408. */
  bodyTimeoutMs: number;
  /** A decoder that takes no input and gives no frame for this long while fed is stalled: the session ends. */
  decoderStallMs: number;
  maxCodecSessions: number;
  /** Per remote address. */
  maxCodecSessionsPerClient: number;
  /** WebSocket connections of any path per remote address. */
  maxConnectionsPerClient: number;
  /** Where record/start writes its files. */
  recordDir: string;
  relayEnabled: boolean;
  relay: RelayConfig;
  /** `--bind-relay`: a ROUTER endpoint the hub binds for AI workers to dial in; null = none. */
  relayBind: string | null;
  /** The AI core (live super-resolution); off unless `--ai` / `ai_enabled`. */
  aiEnabled: boolean;
  ai: Omit<AiSettings, 'maxFrameAgeMs' | 'ffmpeg'>;
}

export const DEFAULT_RELAY: RelayConfig = {
  endpoint: 'tcp://127.0.0.1:8888',
  identity: 'AI_WORKER',
  sendQueueSize: 128,
  defaultClientId: 'WEB_FRONTEND',
  controlClientId: '__blankend_control__',
  echoBack: true,
  forwardRecvEnabled: false,
  forwardRecvClientIds: [],
  forwardRecvOnly: true,
  heartbeatEnabled: true,
  heartbeatIntervalMs: 1000,
  heartbeatPayload: null,
  linkRequestEnabled: true,
  linkRequestPayload: null,
  linkRequestTimeoutMs: 1000,
  linkRequestRetryIntervalMs: 1000,
  linkRequestMaxRetries: 5,
  reconnectIntervalMs: 500,
  maxFrameAgeMs: 1000,
};

export const DEFAULT_HUB: HubConfig = {
  host: '127.0.0.1',
  port: 8765,
  token: null,
  allowedHosts: [],
  allowedOrigins: [],
  maxFrameBytes: 8 * 1024 * 1024,
  subscriberQueueSize: 4,
  broadcastSource: 'ingress',
  preferGpu: true,
  mjpegQuality: 5,
  paceCodecOutput: true,
  logIntervalMs: 10_000,
  bodyTimeoutMs: 10_000,
  decoderStallMs: 10_000,
  maxCodecSessions: 8,
  maxCodecSessionsPerClient: 4,
  maxConnectionsPerClient: 256,
  recordDir: join(tmpdir(), 'huaju4k-recordings'),
  relayEnabled: false,
  relay: DEFAULT_RELAY,
  relayBind: null,
  aiEnabled: false,
  ai: {
    model: DEFAULT_MODEL_ID,
    devices: [{ id: 'cpu', kind: 'cpu' }],
    scale: null,
    target: null,
    temporal: DEFAULT_TEMPORAL_STRENGTH,
    jpegQuality: 1,
    tile: 0,
  },
};

export class HubConfigError extends Error {}

type Raw = Record<string, unknown>;

function bool(v: unknown, key: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return !['0', 'false', 'no', 'off', ''].includes(v.trim().toLowerCase());
  throw new HubConfigError(`stream.${key} must be a boolean, got ${JSON.stringify(v)}`);
}

function int(v: unknown, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new HubConfigError(`stream.${key} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return n;
}

function str(v: unknown, key: string): string {
  if (typeof v !== 'string' || v.length === 0) {
    throw new HubConfigError(`stream.${key} must be a non-empty string`);
  }
  return v;
}

/** Seed semantics: a string payload is sent as is, anything else as its JSON. */
function payload(v: unknown): Buffer | null {
  if (v === null || v === undefined) return null;
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8');
}

function ids(v: unknown, key: string): string[] {
  if (v === null || v === undefined) return [];
  const list = Array.isArray(v) ? v : String(v).split(',');
  return list.map((x) => str(String(x).trim(), key)).filter((x, i, a) => a.indexOf(x) === i);
}

/** Limits and health keys (ours): body time limit, decoder stall, session caps, frame age. */
function applyLimitKeys(c: HubConfig, raw: Raw): void {
  const r = c.relay;
  const has = (k: string) => raw[k] !== undefined;
  if (has('pace_codec_output')) c.paceCodecOutput = bool(raw.pace_codec_output, 'pace_codec_output');
  if (has('body_timeout_ms')) c.bodyTimeoutMs = int(raw.body_timeout_ms, 'body_timeout_ms', 1);
  if (has('decoder_stall_ms')) c.decoderStallMs = int(raw.decoder_stall_ms, 'decoder_stall_ms', 1);
  if (has('max_codec_sessions')) c.maxCodecSessions = int(raw.max_codec_sessions, 'max_codec_sessions', 0, 4096);
  if (has('max_codec_sessions_per_client')) {
    c.maxCodecSessionsPerClient = int(raw.max_codec_sessions_per_client, 'max_codec_sessions_per_client', 0, 4096);
  }
  if (has('max_connections_per_client')) {
    c.maxConnectionsPerClient = int(raw.max_connections_per_client, 'max_connections_per_client', 1);
  }
  if (has('relay_bind')) c.relayBind = raw.relay_bind === null ? null : str(raw.relay_bind, 'relay_bind');
  if (has('record_dir')) c.recordDir = str(raw.record_dir, 'record_dir');
  if (has('max_frame_age_ms')) r.maxFrameAgeMs = int(raw.max_frame_age_ms, 'max_frame_age_ms', 1);
}

/** The AI core's keys (ours): ai_enabled, ai_model, ai_devices, ai_scale, ai_target, ai_temporal, … */
function applyAiKeys(c: HubConfig, raw: Raw): void {
  const has = (k: string) => raw[k] !== undefined && raw[k] !== null;
  const a = { ...c.ai };
  try {
    if (has('ai_enabled')) c.aiEnabled = bool(raw.ai_enabled, 'ai_enabled');
    if (has('ai_model')) a.model = str(raw.ai_model, 'ai_model');
    if (has('ai_devices')) a.devices = parseDevices(String(raw.ai_devices));
    if (has('ai_scale')) a.scale = parseScale(String(raw.ai_scale));
    if (has('ai_target')) a.target = parseTarget(String(raw.ai_target));
    if (has('ai_temporal')) a.temporal = parseTemporal(String(raw.ai_temporal));
    if (has('ai_jpeg_quality')) a.jpegQuality = int(raw.ai_jpeg_quality, 'ai_jpeg_quality', 1, 31);
    if (has('ai_tile')) a.tile = int(raw.ai_tile, 'ai_tile', 0, 8192);
  } catch (err) {
    throw err instanceof HubConfigError ? err : new HubConfigError(`stream.${(err as Error).message}`);
  }
  c.ai = a;
}

/** Applies the seed-compatible keys found in `raw` on top of `base`. Unknown keys are ignored. */
export function applyStreamKeys(base: HubConfig, raw: Raw): HubConfig {
  const c: HubConfig = { ...base, relay: { ...base.relay } };
  const r = c.relay;
  const has = (k: string) => raw[k] !== undefined;
  if (has('host')) c.host = str(raw.host, 'host');
  if (has('port')) c.port = int(raw.port, 'port', 0, 65535);
  if (has('token')) c.token = raw.token === null ? null : str(raw.token, 'token');
  if (has('allowed_hosts')) c.allowedHosts = ids(raw.allowed_hosts, 'allowed_hosts');
  if (has('allowed_origins')) c.allowedOrigins = ids(raw.allowed_origins, 'allowed_origins');
  if (has('max_frame_bytes')) c.maxFrameBytes = int(raw.max_frame_bytes, 'max_frame_bytes', 1024);
  if (has('subscriber_queue_size')) {
    c.subscriberQueueSize = int(raw.subscriber_queue_size, 'subscriber_queue_size', 1, 4096);
  }
  if (has('broadcast_source')) {
    if (raw.broadcast_source !== 'ingress' && raw.broadcast_source !== 'relay') {
      throw new HubConfigError('stream.broadcast_source must be "ingress" or "relay"');
    }
    c.broadcastSource = raw.broadcast_source;
  }
  if (has('prefer_gpu')) c.preferGpu = bool(raw.prefer_gpu, 'prefer_gpu');
  if (has('mjpeg_quality')) c.mjpegQuality = int(raw.mjpeg_quality, 'mjpeg_quality', 2, 31);
  if (has('log_interval_ms')) c.logIntervalMs = int(raw.log_interval_ms, 'log_interval_ms', 0);
  applyLimitKeys(c, raw);
  applyAiKeys(c, raw);
  if (has('relay_enabled')) c.relayEnabled = bool(raw.relay_enabled, 'relay_enabled');
  if (has('zmq_endpoint')) r.endpoint = str(raw.zmq_endpoint, 'zmq_endpoint');
  if (has('zmq_identity')) r.identity = str(raw.zmq_identity, 'zmq_identity');
  if (has('send_queue_size')) r.sendQueueSize = int(raw.send_queue_size, 'send_queue_size', 1, 65536);
  if (has('default_client_id')) r.defaultClientId = str(raw.default_client_id, 'default_client_id');
  if (has('control_client_id')) r.controlClientId = str(raw.control_client_id, 'control_client_id');
  if (has('echo_back')) r.echoBack = bool(raw.echo_back, 'echo_back');
  if (has('forward_recv_enabled')) r.forwardRecvEnabled = bool(raw.forward_recv_enabled, 'forward_recv_enabled');
  if (has('forward_recv_client_id')) r.forwardRecvClientIds = ids(raw.forward_recv_client_id, 'forward_recv_client_id');
  if (has('forward_recv_only')) r.forwardRecvOnly = bool(raw.forward_recv_only, 'forward_recv_only');
  if (has('heartbeat_enabled')) r.heartbeatEnabled = bool(raw.heartbeat_enabled, 'heartbeat_enabled');
  if (has('heartbeat_interval_ms')) r.heartbeatIntervalMs = int(raw.heartbeat_interval_ms, 'heartbeat_interval_ms', 10);
  if (has('heartbeat_payload')) r.heartbeatPayload = payload(raw.heartbeat_payload);
  if (has('link_request_enabled')) r.linkRequestEnabled = bool(raw.link_request_enabled, 'link_request_enabled');
  if (has('link_request_payload')) r.linkRequestPayload = payload(raw.link_request_payload);
  if (has('link_request_timeout_ms')) {
    r.linkRequestTimeoutMs = int(raw.link_request_timeout_ms, 'link_request_timeout_ms', 1);
  }
  if (has('link_request_retry_interval_ms')) {
    r.linkRequestRetryIntervalMs = int(raw.link_request_retry_interval_ms, 'link_request_retry_interval_ms', 0);
  }
  if (has('link_request_max_retries')) {
    r.linkRequestMaxRetries = int(raw.link_request_max_retries, 'link_request_max_retries', 1);
  }
  if (has('zmq_reconnect_ms')) r.reconnectIntervalMs = int(raw.zmq_reconnect_ms, 'zmq_reconnect_ms', 10);
  return c;
}

/** Environment overrides: blankend's three variables plus `HUAJU4K_HUB_<KEY>` for every stream key. */
export function envStreamKeys(env: NodeJS.ProcessEnv): Raw {
  const raw: Raw = {};
  if (env.BLANKEND_RELAY_ENABLED !== undefined) raw.relay_enabled = env.BLANKEND_RELAY_ENABLED;
  if (env.BLANKEND_ZMQ_ENDPOINT) raw.zmq_endpoint = env.BLANKEND_ZMQ_ENDPOINT;
  if (env.BLANKEND_ZMQ_IDENTITY) raw.zmq_identity = env.BLANKEND_ZMQ_IDENTITY;
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('HUAJU4K_HUB_') && v !== undefined) raw[k.slice('HUAJU4K_HUB_'.length).toLowerCase()] = v;
  }
  return raw;
}

export function readConfigFile(path: string): Raw {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HubConfigError(`cannot read hub config ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new HubConfigError(`hub config ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HubConfigError(`hub config ${path} must hold a JSON object`);
  }
  const obj = parsed as Raw;
  const stream = obj.stream;
  if (stream !== undefined && (typeof stream !== 'object' || stream === null || Array.isArray(stream))) {
    throw new HubConfigError(`hub config ${path}: "stream" must be an object`);
  }
  return (stream as Raw | undefined) ?? obj;
}

export function resolveHubConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; flags?: Raw }): HubConfig {
  let c = DEFAULT_HUB;
  if (opts.file) c = applyStreamKeys(c, readConfigFile(opts.file));
  if (opts.env) c = applyStreamKeys(c, envStreamKeys(opts.env));
  if (opts.flags) c = applyStreamKeys(c, opts.flags);
  return c;
}
