/**
 * The webview's side of the protocol: the VS Code webview API behind a small typed client. Incoming messages are
 * validated by the shared parser; anything rejected is logged (console and host) and dropped.
 */
import {
  type HostToWebviewMessage,
  type JobControlMethod,
  parseHostMessage,
  type ReplyMessage,
  WEBVIEW_PROTOCOL_VERSION,
  type WebviewToHostMessage,
} from '../src/protocol/webview-messages';

/** What `acquireVsCodeApi()` returns inside a VS Code webview. */
export interface VsCodeWebviewApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare global {
  function acquireVsCodeApi(): VsCodeWebviewApi;
}

/** What the webview persists across reloads (kept tiny: the host replays the data). */
export interface PersistedState {
  v: number;
  jobId: string | null;
  split: number;
}

export function readPersistedState(api: VsCodeWebviewApi): PersistedState {
  const raw = api.getState();
  if (typeof raw === 'object' && raw !== null) {
    const r = raw as Record<string, unknown>;
    if (r.v === WEBVIEW_PROTOCOL_VERSION) {
      return {
        v: WEBVIEW_PROTOCOL_VERSION,
        jobId: typeof r.jobId === 'string' ? r.jobId : null,
        split: typeof r.split === 'number' && r.split >= 0 && r.split <= 100 ? r.split : 50,
      };
    }
  }
  return { v: WEBVIEW_PROTOCOL_VERSION, jobId: null, split: 50 };
}

const REQUEST_TIMEOUT_MS = 30_000;

export class HostClient {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (r: ReplyMessage) => void; timer: ReturnType<typeof setTimeout> }
  >();
  private rejected = 0;

  constructor(
    private readonly api: VsCodeWebviewApi,
    private readonly onMessage: (message: HostToWebviewMessage) => void,
  ) {}

  /** Installs the window listener and sends `ready`; the host answers with `init`. */
  start(target: Window): void {
    target.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
    this.post({ v: WEBVIEW_PROTOCOL_VERSION, type: 'ready' });
  }

  get rejectedCount(): number {
    return this.rejected;
  }

  receive(data: unknown): void {
    const parsed = parseHostMessage(data);
    if (!parsed.ok) {
      this.rejected++;
      const message = `monitor webview ignored a message: ${parsed.reason}`;
      console.warn(message);
      this.post({ v: WEBVIEW_PROTOCOL_VERSION, type: 'log', level: 'warn', message });
      return;
    }
    const m = parsed.message;
    if (m.type === 'reply') {
      const p = this.pending.get(m.id);
      if (!p) return;
      clearTimeout(p.timer);
      this.pending.delete(m.id);
      p.resolve(m);
      return;
    }
    this.onMessage(m);
  }

  /** Sends a job control request; resolves with the host's reply (or a timeout reply, never rejects). */
  request(method: JobControlMethod, jobId: string): Promise<ReplyMessage> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ v: WEBVIEW_PROTOCOL_VERSION, type: 'reply', id, ok: false, error: 'the extension did not answer' });
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, timer });
      this.post({ v: WEBVIEW_PROTOCOL_VERSION, type: 'request', id, method, jobId });
    });
  }

  private post(message: WebviewToHostMessage): void {
    this.api.postMessage(message);
  }
}
