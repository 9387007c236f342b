/**
 * Live preview of a backend's broadcast for the monitor panel: subscribes to `/video_out` (ours) or `/video_in`
 * (blankend, whose hub broadcasts to every socket), reconnects with backoff, and hands on at most `maxFps` frames
 * a second — always the newest, so a slow webview never builds a backlog.
 */
import type { BroadcastHeader } from '../protocol/hub-status';
import type { BackoffOptions } from './backoff';
import { isCompleteJpeg } from './jpeg';
import { ReconnectingSocket } from './reconnecting-ws';

export interface PreviewOptions {
  /** Backend base URL (http[s]://host:port). */
  baseUrl: string;
  flavour: 'huaju4k-hub' | 'blankend';
  token?: string | null;
  maxFps?: number;
  backoff?: BackoffOptions;
  onFrame: (jpeg: Buffer, header: BroadcastHeader | null) => void;
}

export function previewUrl(baseUrl: string, flavour: PreviewOptions['flavour']): string {
  const u = new URL(baseUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}${flavour === 'huaju4k-hub' ? '/video_out' : '/video_in'}`;
  if (flavour === 'huaju4k-hub') u.searchParams.set('headers', '1');
  return u.toString();
}

export class HubPreviewSubscriber {
  received = 0;
  forwarded = 0;
  private readonly socket: ReconnectingSocket;
  private pendingHeader: BroadcastHeader | null = null;
  private latest: { jpeg: Buffer; header: BroadcastHeader | null } | null = null;
  private lastSentAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly minGapMs: number;

  constructor(private readonly opts: PreviewOptions) {
    this.minGapMs = 1000 / (opts.maxFps ?? 10);
    this.socket = new ReconnectingSocket({
      url: previewUrl(opts.baseUrl, opts.flavour),
      token: opts.token,
      backoff: opts.backoff,
      onMessage: (data, isBinary) => this.onMessage(data, isBinary),
    });
  }

  get connected(): boolean {
    return this.socket.isOpen;
  }

  get lastError(): string {
    return this.socket.lastError;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (!isBinary) {
      try {
        const h = JSON.parse(data.toString()) as BroadcastHeader;
        this.pendingHeader = typeof h === 'object' && h !== null && typeof h.hubSeq === 'number' ? h : null;
      } catch {
        this.pendingHeader = null;
      }
      return;
    }
    const header = this.pendingHeader;
    this.pendingHeader = null;
    if (!isCompleteJpeg(data)) return;
    this.received++;
    this.latest = { jpeg: data, header };
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastSentAt + this.minGapMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      const f = this.latest;
      this.latest = null;
      if (!f) return;
      this.lastSentAt = Date.now();
      this.forwarded++;
      this.opts.onFrame(f.jpeg, f.header);
    }, wait);
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.socket.close();
  }
}
