/**
 * One `BackendStatusClient` per configured backend (no `vscode` import, so the lifecycle is tested against a real
 * hub in plain mocha). `configure` diffs the new list against the running clients: unchanged backends keep their
 * client (and its last snapshot), changed or removed ones are stopped, new ones started. Calls are serialised so
 * a burst of configuration events cannot leave two clients polling the same backend.
 */
import type { BackoffOptions } from '../../hub/backoff';
import { BackendStatusClient, type BackendView, probeBackend } from '../../hub/client';
import type { MonitorBackendRow } from '../../protocol/webview-messages';
import { type Disposable, Emitter } from '../emitter';
import type { BackendConfig } from './backend-config';
import { monitorRowFromView } from './backend-rows';
import { backendTreeRow, type TreeRow } from './tree-rows';

export interface BackendRegistryOptions {
  /** The stored token of a backend (SecretStorage in the extension); undefined when none. */
  tokenFor: (name: string) => Promise<string | undefined>;
  intervalMs?: number;
  timeoutMs?: number;
  backoff?: BackoffOptions;
}

interface Entry {
  config: BackendConfig;
  token: string | undefined;
  client: BackendStatusClient;
  unsubscribe: () => void;
}

/** A reachable backend as a broadcast subscriber sees it. */
export interface BroadcastTarget {
  name: string;
  url: string;
  token: string | undefined;
  flavour: 'huaju4k-hub' | 'blankend';
}

export type ProbeOutcome = Awaited<ReturnType<typeof probeBackend>>;

export class BackendRegistry implements Disposable {
  private entries: Entry[] = [];
  private configs: BackendConfig[] = [];
  private chain: Promise<void> = Promise.resolve();
  private disposed = false;
  private readonly changed = new Emitter<void>();
  /** Fires after (re)configuration and after every poll of any backend. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly opts: BackendRegistryOptions) {}

  /** Replaces the configured backends; resolves once clients are started/stopped accordingly. */
  configure(configs: readonly BackendConfig[]): Promise<void> {
    this.configs = [...configs];
    return this.enqueue(() => this.apply(this.configs, new Set()));
  }

  /** Re-reads tokens (a SecretStorage change) and restarts the clients whose token changed. */
  reloadTokens(): Promise<void> {
    return this.enqueue(() => this.apply(this.configs, new Set()));
  }

  /** Polls every backend now; backends that are backing off get a fresh client (so the backoff starts over). */
  refresh(): Promise<void> {
    return this.enqueue(async () => {
      const stale = new Set(this.entries.filter((e) => e.client.view.state !== 'reachable').map((e) => e.config.name));
      await this.apply(this.configs, stale);
      await Promise.all(this.entries.filter((e) => !stale.has(e.config.name)).map((e) => e.client.pollOnce()));
    });
  }

  get names(): string[] {
    return this.configs.map((c) => c.name);
  }

  config(name: string): BackendConfig | undefined {
    return this.configs.find((c) => c.name === name);
  }

  views(): BackendView[] {
    return this.entries.map((e) => e.client.view);
  }

  view(name: string): BackendView | undefined {
    return this.entries.find((e) => e.config.name === name)?.client.view;
  }

  /** The Backends tree's top rows (with their children), in setting order. */
  treeRows(): TreeRow[] {
    return this.views().map(backendTreeRow);
  }

  /**
   * What a broadcast subscriber needs for each backend that answered its last poll, with the token its status
   * client uses (so a token change restarts both), in setting order.
   */
  reachableTargets(): BroadcastTarget[] {
    const out: BroadcastTarget[] = [];
    for (const e of this.entries) {
      const view = e.client.view;
      if (view.state !== 'reachable') continue;
      out.push({
        name: e.config.name,
        url: e.config.url,
        token: e.token,
        flavour: view.snapshot?.kind ?? 'huaju4k-hub',
      });
    }
    return out;
  }

  monitorRows(): MonitorBackendRow[] {
    return this.views().map(monitorRowFromView);
  }

  /** A one-off probe with the stored token (the Test Backend command); does not touch the running client. */
  async test(name: string): Promise<ProbeOutcome> {
    const cfg = this.config(name);
    if (!cfg) return { state: 'unreachable', error: `no backend named "${name}" is configured` };
    const token = await this.opts.tokenFor(name);
    return probeBackend(cfg.url, { token, timeoutMs: this.opts.timeoutMs });
  }

  /** The token the running client uses (for the preview socket). */
  async token(name: string): Promise<string | undefined> {
    return this.opts.tokenFor(name);
  }

  dispose(): void {
    this.disposed = true;
    for (const e of this.entries) this.stop(e);
    this.entries = [];
    this.changed.dispose();
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.chain.then(step, step);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async apply(configs: readonly BackendConfig[], forceRestart: ReadonlySet<string>): Promise<void> {
    const tokens = await Promise.all(configs.map((c) => this.opts.tokenFor(c.name).catch(() => undefined)));
    if (this.disposed) return;
    const old = new Map(this.entries.map((e) => [e.config.name, e]));
    const next: Entry[] = [];
    configs.forEach((config, i) => {
      const token = tokens[i];
      const prev = old.get(config.name);
      if (prev && prev.config.url === config.url && prev.token === token && !forceRestart.has(config.name)) {
        old.delete(config.name);
        next.push(prev);
        return;
      }
      next.push(this.start(config, token));
    });
    for (const e of old.values()) if (!next.includes(e)) this.stop(e);
    this.entries = next;
    this.changed.fire();
  }

  private start(config: BackendConfig, token: string | undefined): Entry {
    const client = new BackendStatusClient({
      name: config.name,
      url: config.url,
      token,
      intervalMs: this.opts.intervalMs,
      timeoutMs: this.opts.timeoutMs,
      backoff: this.opts.backoff,
    });
    const unsubscribe = client.onUpdate(() => this.changed.fire());
    client.start();
    return { config, token, client, unsubscribe };
  }

  private stop(e: Entry): void {
    e.unsubscribe();
    e.client.stop();
  }
}
