/**
 * ZeroMQ relay, wire-compatible with blankend's ZmqRelay: one DEALER with routing id `<identity>` connects to a
 * ROUTER, sends `[client_id, data]` and receives `[client_id, data]` routed to it, so a ROUTER that replies to the
 * routing id it received reaches us. Inbound parts over `max_frame_bytes` make ZeroMQ drop the peer (it
 * reconnects); inbound data that is not one complete JPEG is counted as rejected and goes nowhere. Control messages
 * (heartbeat, link request) use the control client id. Unlike the seed, every loop exists only while enabled and
 * stops on close (risk 3), and routing of received frames is decided once (risks 2 and 4, see relay-routing.ts).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Dealer } from 'zeromq';
import type { HubResource, RelayStatus } from '../protocol/hub-status';
import type { BroadcastSource, RelayConfig } from './config';
import { isCompleteJpeg } from './jpeg';
import { routeReceivedFrame } from './relay-routing';

/**
 * Returns true when it took the frame; the relay then neither echoes, forwards nor broadcasts it. `answer`: the
 * frame came under our own ingress id while frames we sent under it were unanswered (a worker's answer).
 */
export type RelayFrameHandler = (clientId: string, data: Buffer, answer: boolean) => boolean;

/** A frame received under our own ingress id counts as the answer to one we sent within this time. */
const ANSWER_WINDOW_MS = 10_000;
const MAX_UNANSWERED = 1024;
export type RelayBroadcast = (data: Buffer, sourceClientId: string) => void;

interface Outgoing {
  clientId: Buffer;
  data: Buffer;
  /** When it was queued (Date.now()): data frames older than maxFrameAgeMs are dropped as stale. */
  at: number;
  isLinkRequest?: boolean;
  isHeartbeat?: boolean;
}

const CONTROL_QUEUE_SIZE = 8;
/** Whatever send_queue_size says, queued data frames never hold more than this. */
const SEND_QUEUE_MAX_BYTES = 64 * 1024 * 1024;

export class ZmqRelay {
  private readonly sock: Dealer;
  private readonly data: Outgoing[] = [];
  private dataBytes = 0;
  private readonly control: Outgoing[] = [];
  private wake: (() => void) | null = null;
  private stopped = false;
  private readonly abort = new AbortController();
  private started = false;
  private handler: RelayFrameHandler | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private linkLoopRunning = false;
  private linkWaiter: (() => void) | null = null;
  private sendLoopDone: Promise<void> = Promise.resolve();
  private recvLoopDone: Promise<void> = Promise.resolve();
  private sendLoopRunning = false;
  private recvLoopRunning = false;
  private connectedPeers = 0;
  private everConnected = false;
  private readonly controlId: Buffer;
  private readonly defaultId: Buffer;
  /** Send times of our own ingress frames (default client id) not answered yet, oldest first. */
  private readonly unanswered: number[] = [];
  private readonly stats = {
    sendFrames: 0,
    sendBytes: 0,
    dropped: 0,
    stale: 0,
    recvFrames: 0,
    recvBytes: 0,
    rejected: 0,
    malformed: 0,
    handled: 0,
    forwarded: 0,
    broadcast: 0,
    reconnects: 0,
    lastHeartbeatAt: 0,
    lastRecvAt: 0,
    linked: false,
    linkAttempts: 0,
    identityConflict: null as string | null,
  };

  constructor(
    private readonly cfg: RelayConfig,
    private readonly broadcastSource: BroadcastSource,
    private readonly maxFrameBytes: number,
    private readonly onBroadcast: RelayBroadcast,
  ) {
    this.sock = new Dealer({
      routingId: cfg.identity,
      linger: 0,
      immediate: true,
      reconnectInterval: cfg.reconnectIntervalMs,
      sendHighWaterMark: Math.max(1, cfg.sendQueueSize),
      // A send blocked with no peer (immediate) gives up once its frame would be stale anyway.
      sendTimeout: cfg.maxFrameAgeMs,
      receiveHighWaterMark: 64,
      maxMessageSize: maxFrameBytes,
    });
    this.controlId = Buffer.from(cfg.controlClientId);
    this.defaultId = Buffer.from(cfg.defaultClientId);
  }

  setFrameHandler(handler: RelayFrameHandler | null): void {
    this.handler = handler;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.sock.events.on('connect', () => this.onConnect());
    this.sock.events.on('disconnect', () => this.onDisconnect());
    this.sock.connect(this.cfg.endpoint);
    this.sendLoopRunning = true;
    this.sendLoopDone = this.sendLoop().finally(() => {
      this.sendLoopRunning = false;
    });
    this.recvLoopRunning = true;
    this.recvLoopDone = this.recvLoop().finally(() => {
      this.recvLoopRunning = false;
    });
    if (this.cfg.heartbeatEnabled) {
      this.sendHeartbeat();
      this.heartbeatTimer = setInterval(() => this.sendHeartbeat(), this.cfg.heartbeatIntervalMs);
    }
    if (this.cfg.linkRequestEnabled) void this.linkRequestLoop();
  }

  /**
   * Queues a data frame for the ROUTER; a full queue (send_queue_size frames, or 64 MiB) drops its oldest frame.
   * No client id → the default one.
   */
  enqueue(clientId: string | Buffer | null, data: Buffer): void {
    if (!this.started || this.stopped) return;
    const id = clientId === null ? this.defaultId : typeof clientId === 'string' ? Buffer.from(clientId) : clientId;
    while (
      this.data.length > 0 &&
      (this.data.length >= this.cfg.sendQueueSize || this.dataBytes + data.length > SEND_QUEUE_MAX_BYTES)
    ) {
      this.shiftData();
      this.stats.dropped++;
    }
    this.dataBytes += data.length;
    this.data.push({ clientId: id, data, at: Date.now() });
    this.wakeSender();
  }

  private shiftData(): Outgoing | undefined {
    const item = this.data.shift();
    if (item) this.dataBytes -= item.data.length;
    return item;
  }

  private pushControl(item: Outgoing): void {
    if (this.control.length >= CONTROL_QUEUE_SIZE) this.control.shift();
    this.control.push(item);
    this.wakeSender();
  }

  private wakeSender(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private onConnect(): void {
    this.connectedPeers++;
    if (this.everConnected) this.stats.reconnects++;
    this.everConnected = true;
    if (this.cfg.linkRequestEnabled && !this.stats.linked) void this.linkRequestLoop();
  }

  private onDisconnect(): void {
    this.connectedPeers = Math.max(0, this.connectedPeers - 1);
    if (this.connectedPeers === 0) this.stats.linked = false;
    void this.redial();
  }

  /**
   * ZeroMQ reconnects by itself after a connection error but not after a protocol error — and a message over
   * max_frame_bytes is one. So once a reconnect interval has passed with no connection, dial the endpoint anew.
   */
  private async redial(): Promise<void> {
    await this.sleep(this.cfg.reconnectIntervalMs * 2);
    if (this.stopped || this.connectedPeers > 0) return;
    try {
      this.sock.disconnect(this.cfg.endpoint);
    } catch {
      // the session is already gone (protocol error): nothing to undo
    }
    if (!this.stopped) this.sock.connect(this.cfg.endpoint);
  }

  /** Anything from the ROUTER answers us: only then is the channel linked (a queued request proves nothing). */
  private markLinked(): void {
    this.stats.linked = true;
    this.stats.identityConflict = null;
    const w = this.linkWaiter;
    this.linkWaiter = null;
    w?.();
  }

  private heartbeatPayload(): Buffer {
    return (
      this.cfg.heartbeatPayload ??
      Buffer.from(JSON.stringify({ type: 'heartbeat', identity: this.cfg.identity, ts: Date.now() / 1000 }))
    );
  }

  private linkRequestPayload(): Buffer {
    return (
      this.cfg.linkRequestPayload ??
      Buffer.from(JSON.stringify({ type: 'link_request', identity: this.cfg.identity, ts: Date.now() / 1000 }))
    );
  }

  private sendHeartbeat(): void {
    this.pushControl({ clientId: this.controlId, data: this.heartbeatPayload(), isHeartbeat: true, at: Date.now() });
  }

  /** Sends link requests until linked, a retry budget runs out, or the relay stops; runs again after a reconnect. */
  private async linkRequestLoop(): Promise<void> {
    if (this.linkLoopRunning) return;
    this.linkLoopRunning = true;
    try {
      for (let left = this.cfg.linkRequestMaxRetries; left > 0 && !this.stopped && !this.stats.linked; left--) {
        this.stats.linkAttempts++;
        const req = { clientId: this.controlId, data: this.linkRequestPayload(), isLinkRequest: true, at: Date.now() };
        this.pushControl(req);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.cfg.linkRequestTimeoutMs);
          this.linkWaiter = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.linkWaiter = null;
        if (this.stats.linked || this.stopped) break;
        if (left > 1) await this.sleep(this.cfg.linkRequestRetryIntervalMs);
      }
      if (!this.stats.linked && !this.stopped && this.connectedPeers > 0) this.reportSilence();
    } finally {
      this.linkLoopRunning = false;
    }
  }

  /**
   * Connected, yet no link request was ever answered. A ROUTER ignores a second DEALER with an identity it already
   * routes to (everything this hub sends is then lost silently), so say so where the status shows it.
   */
  private reportSilence(): void {
    const id = this.cfg.identity;
    this.stats.identityConflict =
      `connected to ${this.cfg.endpoint} but ${this.cfg.linkRequestMaxRetries} link requests got no answer: ` +
      `another DEALER probably already uses identity ${id} (the ROUTER then drops this one's frames); give each ` +
      'hub its own zmq_identity, or check that the ROUTER answers link requests';
  }

  private async sendLoop(): Promise<void> {
    while (!this.stopped) {
      const item = this.control.shift() ?? this.shiftData();
      if (!item) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        continue;
      }
      const isData = !item.isHeartbeat && !item.isLinkRequest;
      if (isData && Date.now() - item.at > this.cfg.maxFrameAgeMs) {
        this.stats.stale++;
        continue;
      }
      // Noted before the send: on loopback the worker's answer can be received before send() resolves.
      const own = isData && item.clientId.equals(this.defaultId);
      if (own) this.noteSent();
      try {
        await this.sock.send([item.clientId, item.data]);
      } catch (err) {
        if (own) this.unanswered.pop();
        if (this.stopped) return;
        if (isData && (err as { code?: string }).code === 'EAGAIN') this.stats.stale++;
        else this.stats.dropped++;
        continue;
      }
      if (item.isHeartbeat) this.stats.lastHeartbeatAt = Date.now();
      else if (!item.isLinkRequest) {
        this.stats.sendFrames++;
        this.stats.sendBytes += item.data.length;
      }
    }
  }

  private async recvLoop(): Promise<void> {
    while (!this.stopped) {
      let msg: Buffer[];
      try {
        msg = await this.sock.receive();
      } catch {
        if (this.stopped) return;
        await this.sleep(50);
        continue;
      }
      this.stats.lastRecvAt = Date.now();
      if (msg.length !== 2) {
        this.stats.malformed++; // [client_id, data] only: a part more or less is not guessed at
        continue;
      }
      const [clientIdBuf, data] = msg;
      this.markLinked();
      if (clientIdBuf.equals(this.controlId)) continue;
      this.onReceived(clientIdBuf.toString('utf8'), clientIdBuf, data);
    }
  }

  private noteSent(): void {
    if (this.unanswered.length >= MAX_UNANSWERED) this.unanswered.shift();
    this.unanswered.push(Date.now());
  }

  /**
   * Whether a frame under `clientIdBuf` answers one of ours: it came under our ingress id while a frame we sent
   * under it in the last ANSWER_WINDOW_MS is unanswered. A bus client that uses that id itself (blankend's
   * WEB_FRONTEND) while we send nothing is still served.
   */
  private isAnswer(clientIdBuf: Buffer): boolean {
    if (!clientIdBuf.equals(this.defaultId)) return false;
    const now = Date.now();
    while (this.unanswered.length > 0 && now - this.unanswered[0] > ANSWER_WINDOW_MS) this.unanswered.shift();
    return this.unanswered.shift() !== undefined;
  }

  private onReceived(clientId: string, clientIdBuf: Buffer, data: Buffer): void {
    this.stats.recvFrames++;
    this.stats.recvBytes += data.length;
    if (data.length > this.maxFrameBytes || !isCompleteJpeg(data)) {
      this.stats.rejected++;
      return;
    }
    const answer = this.isAnswer(clientIdBuf);
    if (this.handler) {
      let taken = false;
      try {
        taken = this.handler(clientId, data, answer);
      } catch {
        taken = false; // a throwing handler declines; the frame still flows
      }
      if (taken) {
        this.stats.handled++;
        return;
      }
    }
    const route = routeReceivedFrame(this.cfg, this.broadcastSource, clientId, answer);
    for (const target of route.targets) {
      this.enqueue(target === clientId ? clientIdBuf : target, data);
      this.stats.forwarded++;
    }
    if (route.broadcast) {
      this.stats.broadcast++;
      this.onBroadcast(data, clientId);
    }
  }

  /** A pause that ends early when the relay closes, so no timer outlives it. */
  private sleep(ms: number): Promise<void> {
    return delay(ms, undefined, { signal: this.abort.signal }).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.linkWaiter?.();
    this.wake?.();
    this.data.length = 0;
    this.dataBytes = 0;
    this.control.length = 0;
    this.sock.close();
    await Promise.allSettled([this.sendLoopDone, this.recvLoopDone]);
  }

  status(): RelayStatus {
    const now = Date.now();
    const s = this.stats;
    return {
      enabled: true,
      endpoint: this.cfg.endpoint,
      identity: this.cfg.identity,
      connected: this.connectedPeers > 0,
      linked: s.linked,
      identityConflict: s.identityConflict,
      send: { frames: s.sendFrames, bytes: s.sendBytes, dropped: s.dropped, stale: s.stale, queued: this.data.length },
      recv: {
        frames: s.recvFrames,
        bytes: s.recvBytes,
        rejected: s.rejected,
        malformed: s.malformed,
        handled: s.handled,
        forwarded: s.forwarded,
        broadcast: s.broadcast,
      },
      heartbeatAgeMs: this.cfg.heartbeatEnabled && s.lastHeartbeatAt > 0 ? now - s.lastHeartbeatAt : null,
      lastRecvAgeMs: s.lastRecvAt > 0 ? now - s.lastRecvAt : null,
      reconnects: s.reconnects,
      loops: {
        send: this.sendLoopRunning,
        recv: this.recvLoopRunning,
        heartbeat: this.heartbeatTimer !== null,
        linkRequest: this.linkLoopRunning,
      },
    };
  }

  resources(): HubResource[] {
    const ep = this.cfg.endpoint;
    const out: HubResource[] = [{ kind: 'zmq-socket', id: this.cfg.identity, detail: `DEALER → ${ep}` }];
    const loops = this.status().loops;
    if (loops.send) out.push({ kind: 'relay-loop', id: 'send', detail: 'drains control, then data queue' });
    if (loops.recv) out.push({ kind: 'relay-loop', id: 'recv', detail: 'handler → echo/forward → broadcast' });
    if (loops.heartbeat) {
      out.push({ kind: 'relay-loop', id: 'heartbeat', detail: `every ${this.cfg.heartbeatIntervalMs} ms` });
    }
    if (loops.linkRequest) out.push({ kind: 'relay-loop', id: 'link-request', detail: 'until linked' });
    return out;
  }
}

/** Disabled relay status: what the status API reports when no relay runs. */
export function disabledRelayStatus(): RelayStatus {
  return {
    enabled: false,
    endpoint: null,
    identity: null,
    connected: false,
    linked: false,
    identityConflict: null,
    send: { frames: 0, bytes: 0, dropped: 0, stale: 0, queued: 0 },
    recv: { frames: 0, bytes: 0, rejected: 0, malformed: 0, handled: 0, forwarded: 0, broadcast: 0 },
    heartbeatAgeMs: null,
    lastRecvAgeMs: null,
    reconnects: 0,
    loops: { send: false, recv: false, heartbeat: false, linkRequest: false },
  };
}
