/**
 * Relays each reachable backend's broadcast to the monitor's backends section while the panel is visible: one
 * `HubPreviewSubscriber` per backend (newest frame only, ≤ 2 a second, JPEG), nothing at all while the panel is
 * hidden or closed. Follows the registry: a backend that is removed, stops answering, or changes URL, token or
 * flavour loses its socket (and gets a new one when it is reachable again). No `vscode` import, so the lifecycle is
 * tested against a real hub in plain mocha.
 */
import type { BackoffOptions } from '../../hub/backoff';
import { HubPreviewSubscriber } from '../../hub/preview-subscriber';
import type { Disposable } from '../emitter';
import type { BackendRegistry, BroadcastTarget } from './backend-registry';

/** Where frames go (the monitor panel host). */
export interface BackendFrameSink {
  postBackendFrame(name: string, jpeg: Buffer, ts: number): void;
}

export interface BackendFrameRelayOptions {
  /** Frames per second per backend handed to the sink (default 2: thumbnails, not video). */
  maxFps?: number;
  backoff?: BackoffOptions;
}

export const BACKEND_THUMBNAIL_FPS = 2;

interface Subscription {
  target: BroadcastTarget;
  subscriber: HubPreviewSubscriber;
}

const sameTarget = (a: BroadcastTarget, b: BroadcastTarget) =>
  a.url === b.url && a.token === b.token && a.flavour === b.flavour;

export class BackendFrameRelay implements Disposable {
  private readonly subs = new Map<string, Subscription>();
  private readonly closing = new Set<Promise<void>>();
  private active = false;
  private disposed = false;
  private readonly registryListener: Disposable;

  constructor(
    private readonly registry: BackendRegistry,
    private readonly sink: BackendFrameSink,
    private readonly opts: BackendFrameRelayOptions = {},
  ) {
    this.registryListener = registry.onDidChange(() => this.sync());
  }

  /** The monitor panel became visible (true) or hidden/closed (false). */
  setActive(active: boolean): void {
    this.active = active;
    this.sync();
  }

  /** Names of the backends with an open (or reconnecting) broadcast socket. */
  get subscribed(): string[] {
    return [...this.subs.keys()];
  }

  /** Re-reads the registry and opens/closes sockets to match (also runs on every registry change). */
  sync(): void {
    const wanted = this.active && !this.disposed ? this.registry.reachableTargets() : [];
    const byName = new Map(wanted.map((t) => [t.name, t]));
    for (const [name, sub] of [...this.subs]) {
      const t = byName.get(name);
      if (!t || !sameTarget(t, sub.target)) this.stop(name, sub);
    }
    for (const t of wanted) if (!this.subs.has(t.name)) this.start(t);
  }

  /** Resolves when every socket stopped so far has closed (tests, deactivate). */
  async settled(): Promise<void> {
    await Promise.all([...this.closing]);
  }

  private start(target: BroadcastTarget): void {
    const subscriber = new HubPreviewSubscriber({
      baseUrl: target.url,
      flavour: target.flavour,
      token: target.token ?? null,
      maxFps: this.opts.maxFps ?? BACKEND_THUMBNAIL_FPS,
      backoff: this.opts.backoff,
      onFrame: (jpeg) => {
        // A frame already scheduled when the socket was superseded must not reach the panel.
        if (this.subs.get(target.name)?.subscriber === subscriber)
          this.sink.postBackendFrame(target.name, jpeg, Date.now());
      },
    });
    this.subs.set(target.name, { target, subscriber });
  }

  private stop(name: string, sub: Subscription): void {
    this.subs.delete(name);
    const closed = sub.subscriber.close().catch(() => undefined);
    this.closing.add(closed);
    void closed.then(() => this.closing.delete(closed));
  }

  dispose(): void {
    this.disposed = true;
    this.registryListener.dispose();
    this.sync();
  }
}
