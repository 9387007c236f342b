/** A `ws` client that reconnects with backoff until closed; shared by the publisher and the preview subscriber. */
import WebSocket from 'ws';
import { Backoff, type BackoffOptions } from './backoff';

export interface ReconnectingOptions {
  url: string;
  token?: string | null;
  backoff?: BackoffOptions;
  onOpen?: (ws: WebSocket) => void;
  onMessage?: (data: Buffer, isBinary: boolean) => void;
  onClose?: (reason: string) => void;
}

export class ReconnectingSocket {
  ws: WebSocket | null = null;
  connects = 0;
  lastError = '';
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly backoff: Backoff;

  constructor(private readonly opts: ReconnectingOptions) {
    this.backoff = new Backoff(opts.backoff);
    this.open();
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  private open(): void {
    if (this.closed) return;
    const headers: Record<string, string> = {};
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    const ws = new WebSocket(this.opts.url, { headers, perMessageDeflate: false });
    this.ws = ws;
    ws.on('open', () => {
      this.connects++;
      this.backoff.reset();
      this.opts.onOpen?.(ws);
    });
    ws.on('message', (data, isBinary) => this.opts.onMessage?.(data as Buffer, isBinary));
    ws.on('unexpected-response', (_req, res) => {
      this.lastError = `${this.opts.url}: HTTP ${res.statusCode}${res.statusCode === 401 ? ' (token missing or wrong)' : ''}`;
      ws.terminate();
    });
    ws.on('error', (err) => {
      this.lastError ||= `${this.opts.url}: ${err.message}`;
    });
    ws.on('close', () => {
      if (this.ws === ws) this.ws = null;
      this.opts.onClose?.(this.lastError);
      if (this.closed) return;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.lastError = '';
        this.open();
      }, this.backoff.next());
    });
  }

  close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close();
    });
  }
}
