/** A real ZeroMQ ROUTER peer for relay tests: records every multipart message, optionally answers like a worker. */
import { Router } from 'zeromq';

export interface PeerMessage {
  from: string;
  clientId: string;
  data: Buffer;
  parts: number;
}

export interface RouterPeerOptions {
  /** Send each control message back to its sender under the control id (a ROUTER that acknowledges links). */
  answerControl?: boolean;
  /** Send each data frame back to its sender under the same client id (a worker that answers every frame). */
  answerData?: boolean;
}

export class RouterPeer {
  readonly router = new Router({ linger: 0 });
  readonly msgs: PeerMessage[] = [];
  endpoint = '';
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly opts: RouterPeerOptions = {}) {}

  async bind(endpoint = 'tcp://127.0.0.1:*'): Promise<this> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.router.bind(endpoint);
        break;
      } catch (err) {
        if (attempt > 50) throw err; // the previous ROUTER's port may take a moment to free
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    this.endpoint = this.router.lastEndpoint ?? endpoint;
    this.loop = this.receive();
    return this;
  }

  private async receive(): Promise<void> {
    try {
      for await (const msg of this.router) {
        const [from, clientId, data] = msg;
        const m = {
          from: from.toString(),
          clientId: clientId?.toString() ?? '',
          data: data ?? Buffer.alloc(0),
          parts: msg.length - 1,
        };
        this.msgs.push(m);
        const control = m.clientId === '__blankend_control__';
        if ((control && this.opts.answerControl) || (!control && this.opts.answerData)) {
          await this.router.send([from, m.clientId, m.data]);
        }
      }
    } catch {
      // closed
    }
  }

  data(): PeerMessage[] {
    return this.msgs.filter((m) => m.clientId !== '__blankend_control__');
  }

  control(type: string): PeerMessage[] {
    return this.msgs.filter(
      (m) => m.clientId === '__blankend_control__' && (JSON.parse(m.data.toString()) as { type: string }).type === type,
    );
  }

  async send(to: string, clientId: string, data: Buffer): Promise<void> {
    await this.router.send([to, clientId, data]);
  }

  /** Sends raw parts after the routing id (for malformed-message tests). */
  async sendParts(to: string, parts: Buffer[]): Promise<void> {
    await this.router.send([to, ...parts]);
  }

  async close(): Promise<void> {
    this.router.close();
    await this.loop;
  }
}

const peers: RouterPeer[] = [];

export async function routerPeer(endpoint?: string, opts: RouterPeerOptions = {}): Promise<RouterPeer> {
  const p = await new RouterPeer(opts).bind(endpoint);
  peers.push(p);
  return p;
}

/** Closes a peer early (an outage); closePeers skips it. */
export async function closePeer(p: RouterPeer): Promise<void> {
  const i = peers.indexOf(p);
  if (i >= 0) peers.splice(i, 1);
  await p.close();
}

export async function closePeers(): Promise<void> {
  await Promise.all(peers.splice(0).map((p) => p.close()));
}
