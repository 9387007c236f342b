/**
 * The stream hub: node:http for the status API, `ws` (noServer) for `/video_in`, `/video_codec` and `/video_out`,
 * an optional ZeroMQ relay. Every frame is routed once (relay-routing.ts); subscribers never block each other.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  type BroadcastHeader,
  type FrameHeader,
  HUB_SERVICE_NAME,
  HUB_STATUS_PATH,
  HUB_STATUS_VERSION,
  type HubResource,
  type HubStatus,
  parseFrameHeader,
  type SubscriberPath,
} from '../protocol/hub-status';
import { AI_PATHS, AiHost } from './ai/ai-host';
import { isAuthorized, presentedToken } from './auth';
import { answerBlankendApi, isBlankendApiPath } from './blankend-api';
import { CodecSession } from './codec-session';
import type { HubConfig } from './config';
import { FrameCounter } from './counters';
import { CODEC_NAME_LIST, cudaDecodeAvailable, parseCodec } from './decoder';
import { isCompleteJpeg } from './jpeg';
import { MAX_BODY_BYTES, parseJsonObject, readBody } from './json-body';
import { browserRefusal, type OriginPolicy } from './origin';
import { rawToBuffer } from './raw-data';
import { RECORD_PATHS, Recordings } from './recordings';
import { disabledRelayStatus, type RelayFrameHandler, ZmqRelay } from './relay';
import { RelayRouter } from './relay-router';
import { routeIngressFrame } from './relay-routing';
import { Subscriber } from './subscriber';
import { throughputLine } from './throughput-log';

export interface HubServerOptions {
  ffmpegPath?: string;
  /** Overrides config.preferGpu: 'cuda' forces a CUDA attempt (with CPU fallback), for tests and diagnosis. */
  hwaccel?: 'auto' | 'cuda' | 'cpu';
  log?: (line: string) => void;
}

interface Connection {
  id: string;
  path: SubscriberPath;
  address: string;
  remote: string;
  ws: WebSocket;
}

const WS_PATHS: ReadonlySet<string> = new Set(['/video_in', '/video_codec', '/video_out']);

function flag(url: URL, name: string, dflt: boolean): boolean {
  const v = url.searchParams.get(name);
  if (v === null) return dflt;
  return !['0', 'false', 'no', 'off'].includes(v.toLowerCase());
}

export class HubServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly relay: ZmqRelay | null;
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly connections = new Map<string, Connection>();
  private readonly codecSessions = new Map<string, CodecSession>();
  private readonly ingest = new FrameCounter();
  private readonly broadcastCounter = new FrameCounter();
  private rejected = 0;
  private oversized = 0;
  private hubSeq = 0;
  private nextId = 1;
  private readonly startedAt = Date.now();
  private closed = false;
  private logTimer: NodeJS.Timeout | null = null;
  private readonly log: (line: string) => void;
  private readonly ai: AiHost;
  private readonly recordings: Recordings;
  private readonly boundRelay: RelayRouter | null;
  private userRelayHandler: RelayFrameHandler | null = null;

  constructor(
    readonly config: HubConfig,
    private readonly opts: HubServerOptions = {},
  ) {
    this.log = opts.log ?? (() => undefined);
    this.http = createServer((req, res) => this.onRequest(req, res));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: config.maxFrameBytes, perMessageDeflate: false });
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.relay = config.relayEnabled
      ? new ZmqRelay(config.relay, config.broadcastSource, config.maxFrameBytes, (data, clientId) =>
          this.broadcast(data, { source: `relay:${clientId}`, kind: 'processed' }),
        )
      : null;
    this.relay?.setFrameHandler((clientId, data, answer) => this.onRelayFrame(clientId, data, answer));
    const aiSettings = () => ({
      ...config.ai,
      maxFrameAgeMs: config.relay.maxFrameAgeMs,
      ffmpeg: opts.ffmpegPath ?? 'ffmpeg',
    });
    this.ai = new AiHost(aiSettings, (source, jpeg, at, seq) => this.onProcessed(source, jpeg, at, seq), this.log);
    this.recordings = new Recordings(config.recordDir, opts.ffmpegPath ?? 'ffmpeg', () => this.ai.running);
    this.boundRelay = config.relayBind
      ? new RelayRouter(
          config.relayBind,
          config.relay.controlClientId,
          config.maxFrameBytes,
          config.relay.maxFrameAgeMs,
          (source, jpeg) => this.onProcessed(source, jpeg, Date.now(), 0),
        )
      : null;
  }

  /** The user's handler first; then the AI core takes frames from bus clients (not the answers to our own frames). */
  private onRelayFrame(clientId: string, data: Buffer, answer: boolean): boolean {
    if (this.userRelayHandler?.(clientId, data, answer)) return true;
    if (answer) return false;
    return this.ai.offer({ source: `relay:${clientId}`, jpeg: data, arrivedAt: Date.now() });
  }

  /**
   * A processed frame: one from a bus client goes back to that client (and to subscribers when the relay is the
   * broadcast source); one from local ingress follows the ingress route (subscribers, and the relay when on).
   */
  private onProcessed(source: string, jpeg: Buffer, arrivedAt: number, seq: number): void {
    const header: FrameHeader = { source, kind: 'processed', seq, ts: arrivedAt };
    this.recordings.offer(source, 'processed', jpeg);
    if (source.startsWith('relay:')) {
      this.relay?.enqueue(source.slice('relay:'.length), jpeg);
      if (this.config.broadcastSource === 'relay') this.broadcast(jpeg, header);
      return;
    }
    const route = routeIngressFrame(this.config.broadcastSource, this.relay !== null);
    if (route.toRelay) this.relay?.enqueue(null, jpeg);
    if (route.broadcast) this.broadcast(jpeg, header);
  }

  /** The AI core's state (what `GET /api/v1/ai/status` answers). */
  aiStatus() {
    return this.ai.status();
  }

  /** Resolves once the AI core has nothing waiting, running or being sent. */
  aiIdle(): Promise<void> {
    return this.ai.idle();
  }

  /** Starts listening (port 0 → the OS picks) and the relay; resolves with the bound address. */
  async listen(): Promise<{ host: string; port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.config.port, this.config.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    this.relay?.start();
    await this.boundRelay?.start();
    if (this.config.aiEnabled) {
      try {
        await this.ai.start();
      } catch (err) {
        await this.close();
        throw err;
      }
    }
    if (this.config.logIntervalMs > 0) {
      this.logTimer = setInterval(() => this.log(throughputLine(this.status())), this.config.logIntervalMs);
      this.logTimer.unref();
    }
    const addr = this.http.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return { host: addr.address, port: addr.port, url: `http://${host}:${addr.port}` };
  }

  /** Frames received from the relay go here first; returning true takes them (no echo, forward or broadcast). */
  setRelayFrameHandler(handler: RelayFrameHandler | null): void {
    this.userRelayHandler = handler;
  }

  /** Ingests a JPEG produced in this process (same path as a `/video_in` frame). */
  publish(jpeg: Buffer, header: FrameHeader = {}): boolean {
    if (!isCompleteJpeg(jpeg) || jpeg.length > this.config.maxFrameBytes) {
      this.rejected++;
      return false;
    }
    this.ingestFrame(jpeg, header, header.source ?? 'publish');
    return true;
  }

  /** `source` keys the AI core's per-source state; processed frames (by header) are never processed again. */
  private ingestFrame(data: Buffer, header: FrameHeader, source: string): void {
    this.ingest.add(data.length);
    this.recordings.offer(source, header.kind === 'processed' ? 'processed' : 'raw', data);
    const job = { source, jpeg: data, arrivedAt: Date.now(), seq: header.seq };
    if (header.kind !== 'processed' && this.ai.offer(job)) return;
    if (header.kind !== 'processed' && this.boundRelay?.hasWorkers) {
      this.boundRelay.offer(source, data); // a dialled-in worker processes it (onProcessed)
      return;
    }
    const route = routeIngressFrame(this.config.broadcastSource, this.relay !== null);
    if (route.toRelay) this.relay?.enqueue(null, data);
    if (route.broadcast) this.broadcast(data, header);
  }

  private broadcast(data: Buffer, header: FrameHeader): void {
    this.broadcastCounter.add(data.length);
    const full: BroadcastHeader = { ...header, hubSeq: ++this.hubSeq, hubTs: Date.now(), bytes: data.length };
    const frame = { data, header: JSON.stringify(full), at: full.hubTs };
    for (const sub of this.subscribers.values()) sub.offer(frame);
  }

  private sendJson(res: ServerResponse, code: number, body: unknown, extra: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store', ...extra });
    res.end(text);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://hub.invalid');
    const browser = browserRefusal(req, this.policy());
    if (browser) {
      this.sendJson(res, 403, { error: browser });
      return;
    }
    if (!isAuthorized(this.config.token, presentedToken(req, url))) {
      this.sendJson(res, 401, { error: 'missing or wrong bearer token' }, { 'www-authenticate': 'Bearer' });
      return;
    }
    if (isBlankendApiPath(url.pathname) || AI_PATHS.has(url.pathname) || RECORD_PATHS.has(url.pathname)) {
      void this.answerApi(req, res, url.pathname);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
      return;
    }
    if (url.pathname === HUB_STATUS_PATH) {
      this.sendJson(res, 200, this.status());
      return;
    }
    if (url.pathname === '/healthz') {
      this.sendJson(res, 200, { ok: true, service: HUB_SERVICE_NAME });
      return;
    }
    this.sendJson(res, 404, { error: `no such endpoint: ${url.pathname}`, status: HUB_STATUS_PATH });
  }

  private async answerApi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const isAi = AI_PATHS.has(path);
    const limit = path === '/api/v1/ai/process' ? this.config.maxFrameBytes : MAX_BODY_BYTES;
    const read =
      req.method === 'POST' ? await readBody(req, this.config.bodyTimeoutMs, limit) : { body: Buffer.alloc(0) };
    if ('aborted' in read) return; // the client went away mid-body: nobody to answer
    if ('refusal' in read) {
      // The rest of the body is not read: close the connection after the answer.
      res.on('finish', () => req.socket.destroy());
      this.sendJson(res, read.refusal.status, { detail: read.refusal.detail }, { connection: 'close' });
      return;
    }
    if (isAi) {
      await this.ai.answer(req, res, path, (r, code, body, extra) => this.sendJson(r, code, body, extra), read);
      return;
    }
    const parsed = parseJsonObject(read.body);
    if ('refusal' in parsed) {
      this.sendJson(res, parsed.refusal.status, { detail: parsed.refusal.detail });
      return;
    }
    const ctx = {
      status: () => this.status(),
      cudaDecode: () => cudaDecodeAvailable(this.opts.ffmpegPath),
      codecNames: CODEC_NAME_LIST,
      recordings: () => this.recordings.list(),
    };
    const answer = RECORD_PATHS.has(path)
      ? await this.recordings.answer(req.method ?? 'GET', path, parsed.json)
      : answerBlankendApi(ctx, req.method ?? 'GET', path, parsed.json);
    this.sendJson(res, answer.code, answer.body, answer.allow ? { allow: answer.allow } : {});
  }

  private policy(): OriginPolicy {
    const c = this.config;
    return { host: c.host, allowedHosts: c.allowedHosts, allowedOrigins: c.allowedOrigins };
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://hub.invalid');
    const refusal = this.upgradeRefusal(url, req);
    if (refusal) {
      const body = `${refusal.why}\n`;
      socket.end(
        `HTTP/1.1 ${refusal.status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req, url));
  }

  /** Status line and explanation for a refused upgrade, or null when the upgrade may proceed. */
  private upgradeRefusal(url: URL, req: IncomingMessage): { status: string; why: string } | null {
    if (this.closed) return { status: '503 Service Unavailable', why: 'the hub is shutting down' };
    const browser = browserRefusal(req, this.policy());
    if (browser) return { status: '403 Forbidden', why: browser };
    if (!WS_PATHS.has(url.pathname)) {
      return { status: '404 Not Found', why: `no WebSocket at ${url.pathname}: use ${[...WS_PATHS].join(', ')}` };
    }
    if (!isAuthorized(this.config.token, presentedToken(req, url))) {
      return { status: '401 Unauthorized', why: 'missing or wrong token: send Authorization: Bearer T or ?token=T' };
    }
    const codec = url.searchParams.get('codec') ?? 'h264';
    if (url.pathname === '/video_codec' && parseCodec(codec) === undefined) {
      return { status: '400 Bad Request', why: `codec=${codec} is not decoded here: use one of ${CODEC_NAME_LIST}` };
    }
    return this.limitRefusal(url.pathname, req.socket.remoteAddress ?? '');
  }

  /** Session and per-client caps (config), each with the number and the key to raise. */
  private limitRefusal(path: string, address: string): { status: string; why: string } | null {
    const c = this.config;
    const mine = [...this.connections.values()].filter((x) => x.address === address);
    if (mine.length >= c.maxConnectionsPerClient) {
      const why = `${address} already holds ${c.maxConnectionsPerClient} connections (max_connections_per_client)`;
      return { status: '429 Too Many Requests', why };
    }
    if (path !== '/video_codec') return null;
    if (this.codecSessions.size >= c.maxCodecSessions) {
      const why = `the hub already runs ${c.maxCodecSessions} codec sessions (max_codec_sessions): close one or retry`;
      return { status: '503 Service Unavailable', why };
    }
    if (mine.filter((x) => x.path === '/video_codec').length >= c.maxCodecSessionsPerClient) {
      const why =
        `${address} already holds ${c.maxCodecSessionsPerClient} codec sessions per client ` +
        '(max_codec_sessions_per_client): close one first';
      return { status: '429 Too Many Requests', why };
    }
    return null;
  }

  private onConnection(ws: WebSocket, req: IncomingMessage, url: URL): void {
    const path = url.pathname as SubscriberPath;
    const id = `c${this.nextId++}`;
    const address = req.socket.remoteAddress ?? '';
    const remote = `${address}:${req.socket.remotePort}`;
    const conn: Connection = { id, path, address, remote, ws };
    this.connections.set(id, conn);
    // blankend's hub broadcasts to every connected socket; ?subscribe=0 opts an ingest socket out.
    if (flag(url, 'subscribe', true)) {
      const headers = flag(url, 'headers', false);
      const queue = this.config.subscriberQueueSize;
      const sub = new Subscriber(id, path, remote, ws, queue, headers, this.config.relay.maxFrameAgeMs);
      this.subscribers.set(id, sub);
    }
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.oversized++;
      this.log(`hub: ${path} ${id} ${err.message}`);
    });
    ws.on('close', () => {
      this.subscribers.get(id)?.close();
      this.subscribers.delete(id);
      this.connections.delete(id);
    });
    ws.on('close', () => {
      this.ai.forget(`video_in:${id}`);
      this.ai.forget(`codec:${id}`);
    });
    if (path === '/video_in') this.handleVideoIn(ws, id);
    else if (path === '/video_codec') this.handleVideoCodec(ws, id, url);
    // /video_out only listens; anything it sends is ignored.
  }

  private sendError(ws: WebSocket, code: string, message: string): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'error', code, message }));
  }

  private handleVideoIn(ws: WebSocket, id: string): void {
    let pending: FrameHeader | null = null;
    ws.on('message', (raw, isBinary) => {
      if (!isBinary) {
        const parsed = parseFrameHeader(raw.toString());
        if (typeof parsed === 'string') {
          this.rejected++;
          this.sendError(ws, 'bad_header', parsed);
          return;
        }
        pending = parsed;
        return;
      }
      const data = rawToBuffer(raw);
      const header = pending ?? {};
      pending = null; // a header pairs with the next binary frame only, accepted or not
      if (!isCompleteJpeg(data)) {
        this.rejected++;
        this.sendError(ws, 'not_jpeg', `binary message of ${data.length} bytes is not a complete JPEG (SOI…EOI)`);
        return;
      }
      this.ingestFrame(data, header, header.source ?? `video_in:${id}`);
    });
  }

  private handleVideoCodec(ws: WebSocket, id: string, url: URL): void {
    const codec = parseCodec(url.searchParams.get('codec') ?? 'h264') ?? 'h264'; // upgradeRefusal vetted it
    const preferGpu = this.config.preferGpu && flag(url, 'prefer_gpu', true);
    const quality = Number(url.searchParams.get('mjpeg_quality') ?? this.config.mjpegQuality);
    const mjpegQuality =
      Number.isInteger(quality) && quality >= 2 && quality <= 31 ? quality : this.config.mjpegQuality;
    const session = new CodecSession(ws, {
      id,
      codec,
      hwaccel: this.opts.hwaccel ?? (preferGpu ? 'auto' : 'cpu'),
      mjpegQuality,
      maxFrameBytes: this.config.maxFrameBytes,
      stallMs: this.config.decoderStallMs,
      paced: this.config.paceCodecOutput && flag(url, 'paced', true),
      ffmpegPath: this.opts.ffmpegPath,
      onFrame: (jpeg, seq) =>
        this.ingestFrame(jpeg, { source: `codec:${id}`, kind: 'raw', seq, ts: Date.now() }, `codec:${id}`),
      onBadControl: () => this.rejected++,
      onGone: () => this.codecSessions.delete(id),
      log: this.log,
    });
    this.codecSessions.set(id, session);
  }

  resources(): HubResource[] {
    const addr = this.http.address() as AddressInfo | null;
    const out: HubResource[] = [];
    if (addr) out.push({ kind: 'http-server', id: 'http', detail: `listening ${addr.address}:${addr.port}` });
    for (const c of this.connections.values()) {
      out.push({ kind: 'ws-connection', id: c.id, detail: `${c.path} from ${c.remote}` });
    }
    for (const session of this.codecSessions.values()) {
      const s = session.status();
      out.push({ kind: 'decoder-process', id: s.id, detail: `ffmpeg ${s.codec} ${s.mode} pid ${s.pid ?? 'exited'}` });
    }
    for (const r of this.recordings.pids()) {
      out.push({ kind: 'recorder-process', id: r.source, detail: `ffmpeg recording pid ${r.pid}` });
    }
    if (this.relay) out.push(...this.relay.resources());
    if (this.boundRelay) {
      const b = this.boundRelay.status();
      out.push({ kind: 'zmq-socket', id: 'bind-relay', detail: `ROUTER ${b.endpoint}, ${b.workers.length} workers` });
    }
    return out;
  }

  status(): HubStatus {
    const now = Date.now();
    const addr = this.http.address() as AddressInfo | null;
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      version: HUB_STATUS_VERSION,
      service: HUB_SERVICE_NAME,
      startedAt: this.startedAt,
      uptimeMs: now - this.startedAt,
      config: {
        host: this.config.host,
        port: addr?.port ?? this.config.port,
        broadcastSource: this.config.broadcastSource,
        subscriberQueueSize: this.config.subscriberQueueSize,
        maxFrameBytes: this.config.maxFrameBytes,
        tokenRequired: this.config.token !== null,
      },
      ingest: { ...this.ingest.snapshot(now), rejected: this.rejected, oversized: this.oversized },
      broadcast: this.broadcastCounter.snapshot(now),
      subscribers: [...this.subscribers.values()].map((s) => s.status()),
      relay: this.relay?.status() ?? disabledRelayStatus(),
      codecSessions: [...this.codecSessions.values()].map((c) => c.status()),
      ai: this.ai.status(),
      recordings: this.recordings.list(),
      boundRelay: this.boundRelay?.status() ?? null,
      resources: this.resources(),
      process: {
        pid: process.pid,
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        cpuUserMs: Math.round(cpu.user / 1000),
        cpuSystemMs: Math.round(cpu.system / 1000),
      },
    };
  }

  /** Closes sockets, kills and reaps decoders, stops the relay and its loops, then the HTTP server. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.connections.values()) c.ws.terminate();
    const sessions = [...this.codecSessions.values()];
    this.codecSessions.clear();
    await Promise.all(sessions.map((c) => c.close()));
    await this.recordings.close(); // after the decoders: their last frames are in; each file is finished
    if (this.logTimer) clearInterval(this.logTimer);
    this.logTimer = null;
    await this.relay?.close();
    await this.boundRelay?.close();
    await this.ai.close();
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }
}
