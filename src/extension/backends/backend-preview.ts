import * as vscode from 'vscode';
import { HubPreviewSubscriber } from '../../hub/preview-subscriber';
import { makeNonce } from '../webview-html';
import type { BackendConfig } from './backend-config';
import { type PreviewMessage, renderPreviewHtml } from './backend-preview-html';
import type { BackendRegistry } from './backend-registry';

const VIEW_TYPE = 'huaju4k.backendPreview';

interface OpenPreview {
  url: string;
  panel: vscode.WebviewPanel;
  subscriber: HubPreviewSubscriber;
  statusTimer: NodeJS.Timeout;
}

/**
 * Live preview of a backend's broadcast, relayed through the extension host: a `HubPreviewSubscriber` (newest frame
 * only, at most 10 fps) feeds one webview panel per backend. Closing the panel closes the socket.
 */
export class BackendPreviews implements vscode.Disposable {
  private readonly open = new Map<string, OpenPreview>();

  constructor(private readonly registry: BackendRegistry) {}

  /** Frames relayed to the panel of a backend so far (for tests through the extension API). */
  forwarded(name: string): number {
    return this.open.get(name)?.subscriber.forwarded ?? 0;
  }

  async show(name: string): Promise<void> {
    const existing = this.open.get(name);
    if (existing) {
      existing.panel.reveal();
      return;
    }
    const config = this.registry.config(name);
    if (!config) throw new Error(`No backend named "${name}" is configured (huaju4k.backends).`);
    const view = this.registry.view(name);
    const flavour = view?.snapshot?.kind ?? 'huaju4k-hub';
    const token = await this.registry.token(name);
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      `Preview: ${name}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, enableCommandUris: false, localResourceRoots: [], retainContextWhenHidden: false },
    );
    const nonce = makeNonce();
    panel.webview.html = renderPreviewHtml({ nonce, title: `${name} broadcast` });
    const post = (m: PreviewMessage) => {
      if (panel.visible) void panel.webview.postMessage(m);
    };
    const subscriber = new HubPreviewSubscriber({
      baseUrl: config.url,
      flavour,
      token,
      maxFps: 10,
      onFrame: (jpeg, header) =>
        post({
          type: 'frame',
          jpeg: jpeg.toString('base64'),
          seq: header?.hubSeq ?? null,
          latencyMs: header ? Date.now() - header.hubTs : null,
        }),
    });
    // Status line while no frame arrives: says whether the socket is up and why not.
    const statusTimer = setInterval(() => {
      if (subscriber.forwarded > 0 && subscriber.connected) return;
      post({
        type: 'status',
        text: subscriber.connected
          ? `Connected to ${config.url}; waiting for frames (nothing is being broadcast).`
          : `Connecting to ${config.url}…${subscriber.lastError ? ` (${subscriber.lastError})` : ''}`,
      });
    }, 1000);
    const entry: OpenPreview = { url: config.url, panel, subscriber, statusTimer };
    this.open.set(name, entry);
    panel.onDidDispose(() => this.close(name, entry));
  }

  /** Closes the previews of backends that were removed or now point elsewhere. */
  retain(configs: readonly BackendConfig[]): void {
    for (const [name, entry] of [...this.open]) {
      if (!configs.some((c) => c.name === name && c.url === entry.url)) entry.panel.dispose();
    }
  }

  private close(name: string, entry: OpenPreview): void {
    clearInterval(entry.statusTimer);
    void entry.subscriber.close();
    if (this.open.get(name) === entry) this.open.delete(name);
  }

  dispose(): void {
    for (const [name, entry] of [...this.open]) {
      this.close(name, entry);
      entry.panel.dispose();
    }
  }
}
