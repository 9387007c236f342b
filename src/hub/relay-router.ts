/**
 * `--bind-relay tcp://…`: the hub binds a ZeroMQ ROUTER so AI workers can dial in (`huaju4k ai-worker --relay …`,
 * or a blankend-style DEALER). A worker is known once it says anything on the control id (its link request is
 * answered with the same payload, so it counts as linked) or answers a frame. Ingress frames go to the worker with
 * the fewest unanswered frames, at most two each; when every worker is full, one frame per source waits and a newer
 * one replaces it (counted as dropped), so nothing stale queues up. Messages must be exactly
 * `[routing id, client_id, data]`; data that is not one complete JPEG is counted and goes nowhere.
 */
import { Router } from 'zeromq';
import type { BoundRelayStatus } from '../protocol/hub-status';
import { isCompleteJpeg } from './jpeg';

export type WorkerOutput = (clientId: string, data: Buffer) => void;

interface Worker {
  id: Buffer;
  name: string;
  lastSeen: number;
  sent: number;
  received: number;
  /** Sent and not answered yet. */
  outstanding: number;
}

/** Frames in flight per worker: one running, one ready (a worker pipeline stays busy, nothing ages in a queue). */
const MAX_OUTSTANDING = 2;
/** A worker silent this long (DEALERs heartbeat every second by default) is forgotten. */
const WORKER_TIMEOUT_MS = 5000;

export class RelayRouter {
  private readonly sock: Router;
  private readonly workers = new Map<string, Worker>();
  private readonly waiting = new Map<string, { data: Buffer; at: number }>();
  private loop: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly controlId: Buffer;
  private readonly stats = { sent: 0, received: 0, dropped: 0, stale: 0, rejected: 0, malformed: 0 };

  constructor(
    readonly endpoint: string,
    controlClientId: string,
    private readonly maxFrameBytes: number,
    private readonly maxFrameAgeMs: number,
    private readonly onOutput: WorkerOutput,
  ) {
    this.sock = new Router({ linger: 0, maxMessageSize: maxFrameBytes, sendHighWaterMark: 64 });
    this.controlId = Buffer.from(controlClientId);
  }

  async start(): Promise<void> {
    await this.sock.bind(this.endpoint);
    this.loop = this.receive();
  }

  /** True once some worker is known: ingress then goes to the workers. */
  get hasWorkers(): boolean {
    this.prune();
    return this.workers.size > 0;
  }

  private prune(): void {
    const now = Date.now();
    for (const [name, w] of this.workers) if (now - w.lastSeen > WORKER_TIMEOUT_MS) this.workers.delete(name);
  }

  /** Hands a frame of `clientId` to a worker, or keeps it as that client's one waiting frame. */
  offer(clientId: string, data: Buffer): void {
    if (this.waiting.has(clientId)) this.stats.dropped++;
    this.waiting.set(clientId, { data, at: Date.now() });
    this.pump();
  }

  private freeWorker(): Worker | undefined {
    this.prune();
    let best: Worker | undefined;
    for (const w of this.workers.values()) {
      if (w.outstanding < MAX_OUTSTANDING && (!best || w.outstanding < best.outstanding)) best = w;
    }
    return best;
  }

  private pump(): void {
    for (const [clientId, frame] of this.waiting) {
      const worker = this.freeWorker();
      if (!worker) return;
      this.waiting.delete(clientId);
      if (Date.now() - frame.at > this.maxFrameAgeMs) {
        this.stats.stale++;
        continue;
      }
      worker.outstanding++;
      worker.sent++;
      this.stats.sent++;
      this.sock.send([worker.id, clientId, frame.data]).catch(() => {
        worker.outstanding = Math.max(0, worker.outstanding - 1);
        this.stats.dropped++;
      });
    }
  }

  private worker(id: Buffer): Worker {
    const name = id.toString('utf8');
    let w = this.workers.get(name);
    if (!w) {
      w = { id, name, lastSeen: 0, sent: 0, received: 0, outstanding: 0 };
      this.workers.set(name, w);
    }
    w.lastSeen = Date.now();
    return w;
  }

  private async receive(): Promise<void> {
    try {
      for await (const msg of this.sock) {
        if (msg.length !== 3) {
          this.stats.malformed++;
          continue;
        }
        const [from, clientId, data] = msg;
        const w = this.worker(from);
        if (clientId.equals(this.controlId)) {
          // Acknowledge a link request (the worker then reports linked); heartbeats need no answer.
          if (data.includes('link_request')) await this.sock.send([from, clientId, data]).catch(() => undefined);
          this.pump();
          continue;
        }
        w.outstanding = Math.max(0, w.outstanding - 1);
        w.received++;
        this.stats.received++;
        if (data.length > this.maxFrameBytes || !isCompleteJpeg(data)) this.stats.rejected++;
        else this.onOutput(clientId.toString('utf8'), data);
        this.pump();
      }
    } catch {
      // closed
    }
  }

  status(): BoundRelayStatus {
    const now = Date.now();
    return {
      endpoint: this.sock.lastEndpoint ?? this.endpoint,
      workers: [...this.workers.values()].map((w) => ({
        id: w.name,
        sent: w.sent,
        received: w.received,
        outstanding: w.outstanding,
        lastSeenAgeMs: now - w.lastSeen,
      })),
      waiting: this.waiting.size,
      ...this.stats,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
    await this.loop;
  }
}
