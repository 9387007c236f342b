/**
 * Handles what the webview posts: validated by the shared parser, unknown or malformed messages are logged and
 * dropped, job control requests are forwarded to the job manager and answered with a reply of the same id.
 */
import {
  type HostToWebviewMessage,
  parseWebviewMessage,
  WEBVIEW_PROTOCOL_VERSION,
} from '../../protocol/webview-messages';
import type { MonitorJobControls, MonitorLogger } from './job-controls';

export interface MessageRouterDeps {
  post: (message: HostToWebviewMessage) => unknown;
  log: MonitorLogger;
  controls: () => MonitorJobControls | undefined;
  /** The webview's script is running and listening: send it the state. */
  onReady: () => void;
}

export class MonitorMessageRouter {
  constructor(private readonly deps: MessageRouterDeps) {}

  async handle(raw: unknown): Promise<void> {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.deps.log.warn(`huaju4k monitor: ignored a message from the webview (${parsed.reason})`);
      return;
    }
    const m = parsed.message;
    switch (m.type) {
      case 'ready':
        this.deps.onReady();
        return;
      case 'log':
        this.deps.log[m.level](`huaju4k monitor webview: ${m.message}`);
        return;
      case 'request': {
        const controls = this.deps.controls();
        let error: string | undefined;
        if (!controls) {
          error = 'Job controls are not available yet.';
        } else {
          try {
            await controls[m.method](m.jobId);
          } catch (err) {
            error = err instanceof Error ? err.message : String(err);
            this.deps.log.warn(`huaju4k monitor: ${m.method} for ${m.jobId} failed: ${error}`);
          }
        }
        this.deps.post({
          v: WEBVIEW_PROTOCOL_VERSION,
          type: 'reply',
          id: m.id,
          ok: error === undefined,
          ...(error !== undefined ? { error } : {}),
        });
        return;
      }
    }
  }
}
