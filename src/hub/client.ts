/**
 * Status client for one backend: our hub (`/api/v1/stream/status`, typed) or a blankend service (its documented
 * status endpoints, shown generically). Polls on an interval while reachable and backs off while not. No `vscode`
 * import: the extension wires it to the Backends tree and SecretStorage.
 */
import { BLANKEND_STATUS_PATHS, HUB_STATUS_PATH, parseHubStatus, type ReceivedHubStatus } from '../protocol/hub-status';
import { Backoff, type BackoffOptions } from './backoff';

export type BackendState = 'connecting' | 'reachable' | 'unreachable' | 'unauthorized';

export interface GenericEndpoint {
  path: string;
  ok: boolean;
  httpStatus?: number;
  body?: unknown;
  error?: string;
}

export type BackendSnapshot =
  | { kind: 'huaju4k-hub'; status: ReceivedHubStatus }
  | { kind: 'blankend'; endpoints: GenericEndpoint[] };

export interface BackendView {
  name: string;
  url: string;
  state: BackendState;
  snapshot?: BackendSnapshot;
  error?: string;
  lastOkAt?: number;
  /** Consecutive failed polls. */
  failures: number;
  /** When the next poll is due (ms from now) while backing off; undefined while polling normally. */
  retryInMs?: number;
}

export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<{
  status: number;
  json(): Promise<unknown>;
}>;

export interface ProbeOptions {
  token?: string | null;
  timeoutMs?: number;
  fetchImpl?: FetchLike;
}

type ProbeResult = Pick<BackendView, 'state' | 'snapshot' | 'error'>;

function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

async function getJson(url: string, opts: ProbeOptions): Promise<{ status: number; body: unknown }> {
  const fetchImpl = opts.fetchImpl ?? (fetch as unknown as FetchLike);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetchImpl(url, { headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 3000) });
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

function describe(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** One probe: our hub first, then blankend's endpoints. Never throws. */
export async function probeBackend(baseUrl: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  let hub: { status: number; body: unknown };
  try {
    hub = await getJson(joinUrl(baseUrl, HUB_STATUS_PATH), opts);
  } catch (err) {
    return { state: 'unreachable', error: `${baseUrl}: ${describe(err)}` };
  }
  if (hub.status === 401 || hub.status === 403) {
    return { state: 'unauthorized', error: `${baseUrl} refused the token (HTTP ${hub.status}): set or fix it` };
  }
  const status = hub.status === 200 ? parseHubStatus(hub.body) : undefined;
  if (status) return { state: 'reachable', snapshot: { kind: 'huaju4k-hub', status } };
  const endpoints = await Promise.all(
    BLANKEND_STATUS_PATHS.map(async (path): Promise<GenericEndpoint> => {
      try {
        const r = await getJson(joinUrl(baseUrl, path), opts);
        return { path, ok: r.status === 200, httpStatus: r.status, body: r.body };
      } catch (err) {
        return { path, ok: false, error: describe(err) };
      }
    }),
  );
  if (endpoints.some((e) => e.httpStatus === 401 || e.httpStatus === 403)) {
    return { state: 'unauthorized', error: `${baseUrl} refused the token: set or fix it` };
  }
  if (endpoints.some((e) => e.ok)) return { state: 'reachable', snapshot: { kind: 'blankend', endpoints } };
  return {
    state: 'unreachable',
    error: `${baseUrl} answers HTTP but has neither ${HUB_STATUS_PATH} nor blankend's status endpoints`,
  };
}

export interface BackendStatusClientOptions extends ProbeOptions {
  name: string;
  url: string;
  intervalMs?: number;
  backoff?: BackoffOptions;
}

export class BackendStatusClient {
  private current: BackendView;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly backoff: Backoff;
  private readonly listeners = new Set<(view: BackendView) => void>();

  constructor(private readonly opts: BackendStatusClientOptions) {
    this.backoff = new Backoff(opts.backoff);
    this.current = { name: opts.name, url: opts.url, state: 'connecting', failures: 0 };
  }

  get view(): BackendView {
    return this.current;
  }

  /** Registers a listener for every new view; returns the function that removes it. */
  onUpdate(listener: (view: BackendView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Polls now (also used by a "Test backend" command); updates the view and notifies listeners. */
  async pollOnce(): Promise<BackendView> {
    const r = await probeBackend(this.opts.url, this.opts);
    const prev = this.current;
    if (r.state === 'reachable') {
      this.backoff.reset();
      this.current = {
        name: prev.name,
        url: prev.url,
        state: r.state,
        snapshot: r.snapshot,
        lastOkAt: Date.now(),
        failures: 0,
      };
    } else {
      // Keep the last good snapshot so the UI can show stale values next to the error.
      this.current = { ...prev, state: r.state, error: r.error, failures: prev.failures + 1 };
    }
    for (const l of this.listeners) l(this.current);
    return this.current;
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    const view = await this.pollOnce();
    if (!this.running) return;
    const delay = view.state === 'reachable' ? (this.opts.intervalMs ?? 2000) : this.backoff.next();
    if (view.state !== 'reachable') this.current = { ...this.current, retryInMs: delay };
    this.timer = setTimeout(() => void this.tick(), delay);
  }
}
