/**
 * The monitor panel host: one webview panel per window showing the focused job (the newest to start), restored
 * after a reload by a serializer. The host records every engine event it is given — panel open or not — in bounded
 * per-job replays, so opening the panel mid-run shows the run so far. The webview is created without
 * `retainContextWhenHidden`: when it comes back it posts `ready` again and gets a fresh `init`.
 */
import * as vscode from 'vscode';
import type { EngineEvent } from '../../protocol/engine-events';
import type { EndPhase } from '../../protocol/job-phase';
import type { HostToWebviewMessage, MonitorBackendRow } from '../../protocol/webview-messages';
import { Emitter } from '../emitter';
import { makeNonce } from '../webview-html';
import { renderMonitorHtml } from './html';
import { consoleLogger, type MonitorJobControls, type MonitorLogger } from './job-controls';
import { MonitorMessageRouter } from './message-router';
import { MonitorState } from './monitor-state';

export interface MonitorPanelOptions {
  controls?: MonitorJobControls;
  log?: MonitorLogger;
}

export interface ShowOptions {
  /** Show this job instead of the newest. */
  jobId?: string;
  preserveFocus?: boolean;
  viewColumn?: vscode.ViewColumn;
}

export class MonitorPanel implements vscode.Disposable {
  static readonly viewType = 'huaju4k.monitor';
  private static instance: MonitorPanel | undefined;

  private readonly state = new MonitorState();
  private panel: vscode.WebviewPanel | undefined;
  private panelDisposables: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private controls: MonitorJobControls | undefined;
  private log: MonitorLogger;
  private readonly router: MonitorMessageRouter;
  private readonly visibility = new Emitter<boolean>();
  private visibleNow = false;
  private readonly oversizedLogged = new Set<string>();
  /** Fires when the panel becomes visible or stops being visible (hidden, closed, disposed). */
  readonly onDidChangeVisibility = this.visibility.event;

  /**
   * Creates the window's monitor host and registers the panel serializer (call once from `activate`). Also needs
   * `onWebviewPanel:huaju4k.monitor` in package.json `activationEvents` for restore after reload.
   */
  static register(context: vscode.ExtensionContext, options: MonitorPanelOptions = {}): MonitorPanel {
    if (MonitorPanel.instance) {
      MonitorPanel.instance.configure(options);
      return MonitorPanel.instance;
    }
    const host = new MonitorPanel(context.extensionUri, options);
    MonitorPanel.instance = host;
    host.disposables.push(
      vscode.window.registerWebviewPanelSerializer(MonitorPanel.viewType, {
        deserializeWebviewPanel: async (panel: vscode.WebviewPanel, saved: unknown) => {
          host.adopt(panel);
          const jobId = (saved as { jobId?: unknown } | undefined)?.jobId;
          if (typeof jobId === 'string') host.state.focus(jobId);
        },
      }),
    );
    context.subscriptions.push(host);
    return host;
  }

  /** Opens the panel (registering the host first if needed) or brings it to the front. */
  static createOrShow(
    context: vscode.ExtensionContext,
    show: ShowOptions = {},
    options?: MonitorPanelOptions,
  ): MonitorPanel {
    const host = MonitorPanel.register(context, options);
    host.show(show);
    return host;
  }

  private constructor(
    private readonly extensionUri: vscode.Uri,
    options: MonitorPanelOptions,
  ) {
    this.controls = options.controls;
    this.log = options.log ?? consoleLogger;
    this.router = new MonitorMessageRouter({
      post: (m) => this.post(m),
      log: { info: (m) => this.log.info(m), warn: (m) => this.log.warn(m), error: (m) => this.log.error(m) },
      controls: () => this.controls,
      onReady: () => {
        this.ready = true;
        this.post(this.state.init());
        const ended = this.state.focusedEnding();
        if (ended) this.post(ended);
        for (const frame of this.state.backendFrames()) this.post(frame);
      },
    });
  }

  configure(options: MonitorPanelOptions): void {
    if (options.controls) this.controls = options.controls;
    if (options.log) this.log = options.log;
  }

  /** The panel is open and on screen: the only time backend frames are worth relaying. */
  get isVisible(): boolean {
    return this.visibleNow;
  }

  get focusedJobId(): string | null {
    return this.state.focusedJobId;
  }

  show(options: ShowOptions = {}): void {
    if (options.jobId) {
      const init = this.state.focus(options.jobId);
      if (init && this.ready) this.post(init);
    }
    if (this.panel) {
      this.panel.reveal(options.viewColumn, options.preserveFocus);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      MonitorPanel.viewType,
      'huaju4k Monitor',
      { viewColumn: options.viewColumn ?? vscode.ViewColumn.Active, preserveFocus: options.preserveFocus ?? false },
      this.webviewOptions(),
    );
    this.adopt(panel);
  }

  /** The extension saw the job's engine exit: the panel shows how it ended, whatever the engine last said. */
  postJobEnded(jobId: string, phase: EndPhase, message?: string): void {
    const ended = this.state.end(jobId, phase, message);
    if (ended && this.ready) this.post(ended);
  }

  /** Feed every engine event of every job here (the job manager's `onEngineEvent`). Cheap when the panel is closed. */
  postEngineEvent(jobId: string, event: EngineEvent): void {
    const message = this.state.record(jobId, event);
    if (message && this.ready) this.post(message);
  }

  /** The backends section's rows (from the hub client); until the first call the panel shows its empty state. */
  setBackends(rows: MonitorBackendRow[]): void {
    const message = this.state.setBackends(rows);
    if (this.ready) this.post(message);
  }

  /** The newest frame of a backend's broadcast, for its thumbnail in the backends section. */
  postBackendFrame(name: string, jpeg: Buffer, ts: number): void {
    const message = this.state.setBackendFrame(name, jpeg, ts);
    if (!message) {
      if (!this.oversizedLogged.has(name)) {
        this.oversizedLogged.add(name);
        this.log.warn(
          `huaju4k monitor: frames from backend "${name}" are too large for the preview (${jpeg.length} bytes); ` +
            'its thumbnail stays empty — lower the resolution or JPEG quality it broadcasts.',
        );
      }
      return;
    }
    if (this.ready) this.post(message);
  }

  private setVisible(visible: boolean): void {
    if (visible === this.visibleNow) return;
    this.visibleNow = visible;
    this.visibility.fire(visible);
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      enableCommandUris: false,
      retainContextWhenHidden: false,
      localResourceRoots: [
        vscode.Uri.joinPath(this.extensionUri, 'dist'),
        vscode.Uri.joinPath(this.extensionUri, 'media'),
      ],
    };
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.disposePanel();
    this.panel = panel;
    this.ready = false;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
    panel.webview.options = this.webviewOptions();
    const webview = panel.webview;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    webview.html = renderMonitorHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
    });
    this.panelDisposables = [
      webview.onDidReceiveMessage((raw: unknown) => void this.router.handle(raw)),
      panel.onDidChangeViewState(() => {
        // A hidden webview without retained context is torn down; it posts `ready` again when shown.
        if (!panel.visible) this.ready = false;
        if (this.panel === panel) this.setVisible(panel.visible);
      }),
      panel.onDidDispose(() => {
        if (this.panel === panel) {
          this.panel = undefined;
          this.ready = false;
          for (const d of this.panelDisposables) d.dispose();
          this.panelDisposables = [];
          this.setVisible(false);
        }
      }),
    ];
    this.setVisible(panel.visible);
  }

  private post(message: HostToWebviewMessage): void {
    if (!this.panel) return;
    this.panel.webview.postMessage(message).then(
      (delivered) => {
        if (!delivered) this.ready = false;
      },
      (err: unknown) => this.log.warn(`huaju4k monitor: could not post ${message.type}: ${String(err)}`),
    );
  }

  private disposePanel(): void {
    for (const d of this.panelDisposables) d.dispose();
    this.panelDisposables = [];
    const old = this.panel;
    this.panel = undefined;
    old?.dispose();
    this.setVisible(false);
  }

  dispose(): void {
    this.disposePanel();
    for (const d of this.disposables) d.dispose();
    this.disposables.length = 0;
    this.visibility.dispose();
    if (MonitorPanel.instance === this) MonitorPanel.instance = undefined;
  }
}
