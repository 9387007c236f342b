/**
 * Hosts the real monitor bundle (dist/webview.js + dist/webview.css) in chromium the way VS Code does, without VS
 * Code: the page is the panel's own HTML (renderMonitorHtml, real CSP with nonce), `acquireVsCodeApi` is emulated
 * (postMessage / getState / setState, state kept across reloads), the theme's real `--vscode-*` variables and body
 * classes are applied (captured from code-server by capture-theme-vars.mjs), and the "extension side" is the panel's
 * own host logic (MonitorState + MonitorMessageRouter) talking through window messages.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { renderMonitorHtml } from '../../src/extension/monitor/html';
import type { MonitorJobControls } from '../../src/extension/monitor/job-controls';
import { MonitorMessageRouter } from '../../src/extension/monitor/message-router';
import { MonitorState } from '../../src/extension/monitor/monitor-state';
import { makeNonce } from '../../src/extension/webview-html';
import type { EngineEvent } from '../../src/protocol/engine-events';
import type { HostToWebviewMessage, MonitorBackendRow } from '../../src/protocol/webview-messages';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../tools/e2e/chromium.mjs';

export const ROOT = resolve(__dirname, '..', '..');
const FIXTURES = join(__dirname, 'fixtures');

export type ThemeKind = 'dark' | 'light' | 'hc';

export interface ThemeFixture {
  bodyClass: string;
  themeKind: string;
  themeId: string;
  vars: Record<string, string>;
}

export function loadTheme(kind: ThemeKind): ThemeFixture {
  return JSON.parse(readFileSync(join(FIXTURES, `theme-${kind}.json`), 'utf8')) as ThemeFixture;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.map': 'application/json',
  '.png': 'image/png',
};

/** Serves the panel HTML at / and the extension's dist/ and media/ folders (the panel's localResourceRoots). */
export async function startServer(): Promise<{ origin: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  let origin = '';
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    requests.push(url.pathname);
    if (url.pathname === '/') {
      const html = renderMonitorHtml({
        cspSource: origin,
        nonce: makeNonce(),
        scriptUri: `${origin}/dist/webview.js`,
        styleUri: `${origin}/dist/webview.css`,
      });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const m = /^\/(dist|media)\/([\w.-]+)$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = readFileSync(join(ROOT, m[1], m[2]));
      const ext = m[2].slice(m[2].lastIndexOf('.'));
      res.writeHead(200, { 'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, server, requests };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', ...CHROMIUM_ARGS],
  });
}

interface InitArgs {
  theme: ThemeFixture;
  defaultStyles: string;
  stateKey: string;
}

/** Runs in the page before any of its scripts: what VS Code's webview host provides. */
function emulateWebviewHost({ theme, defaultStyles, stateKey }: InitArgs): void {
  const w = window as unknown as Record<string, unknown>;
  const violations: string[] = [];
  w.__cspViolations = violations;
  document.addEventListener('securitypolicyviolation', (e) => {
    violations.push(`${e.violatedDirective} ${e.blockedURI}`);
  });
  const applyTheme = (t: ThemeFixture): boolean => {
    const root = document.documentElement;
    if (!root) return false;
    for (const name of [...root.style]) if (name.startsWith('--')) root.style.removeProperty(name);
    for (const [k, v] of Object.entries(t.vars)) root.style.setProperty(k, v);
    if (!document.body) return false;
    document.body.className = t.bodyClass;
    document.body.dataset.vscodeThemeKind = t.themeKind;
    document.body.dataset.vscodeThemeId = t.themeId;
    return true;
  };
  w.__applyTheme = applyTheme;
  // Like VS Code's _defaultStyles (constructed, so the page's CSP does not apply to the host's own styles).
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(defaultStyles);
  document.adoptedStyleSheets = [sheet];
  if (!applyTheme(theme)) {
    new MutationObserver((_m, obs) => {
      if (applyTheme(theme)) obs.disconnect();
    }).observe(document, { childList: true, subtree: true });
  }

  let acquired = false;
  w.acquireVsCodeApi = () => {
    if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
    acquired = true;
    const toHost = w.__huaju4kToHost as (m: unknown) => void;
    return Object.freeze({
      postMessage: (m: unknown) => toHost(JSON.parse(JSON.stringify(m))),
      getState: () => {
        const s = sessionStorage.getItem(stateKey);
        return s === null ? undefined : JSON.parse(s);
      },
      setState: (s: unknown) => {
        sessionStorage.setItem(stateKey, JSON.stringify(s));
        return s;
      },
    });
  };
}

/** The monitor page plus the extension-side logic of MonitorPanel, minus the `vscode` module. */
export class EmulatedPanel {
  readonly state = new MonitorState();
  readonly fromWebview: unknown[] = [];
  readonly logs: string[] = [];
  readonly controlCalls: string[] = [];
  controlError: string | undefined;
  private ready = false;
  private readonly router: MonitorMessageRouter;
  readonly consoleErrors: string[] = [];

  constructor(
    readonly page: Page,
    readonly origin: string,
  ) {
    const controls: MonitorJobControls = {
      cancel: (id) => this.control('cancel', id),
      revealOutput: (id) => this.control('revealOutput', id),
      openLog: (id) => this.control('openLog', id),
    };
    this.router = new MonitorMessageRouter({
      post: (m) => this.send(m),
      log: {
        info: (m) => this.logs.push(`info ${m}`),
        warn: (m) => this.logs.push(`warn ${m}`),
        error: (m) => this.logs.push(`error ${m}`),
      },
      controls: () => controls,
      onReady: () => {
        this.ready = true;
        // As MonitorPanel: init first, then each backend's newest frame.
        void this.send(this.state.init()).then(async () => {
          for (const f of this.state.backendFrames()) await this.send(f);
        });
      },
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error') this.consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => this.consoleErrors.push(String(err)));
  }

  private control(method: string, jobId: string): void {
    this.controlCalls.push(`${method} ${jobId}`);
    if (this.controlError) throw new Error(this.controlError);
  }

  static async open(browser: Browser, origin: string, theme: ThemeKind, viewport = { width: 1100, height: 1250 }) {
    const page = await browser.newPage({ viewport, deviceScaleFactor: 1 });
    const panel = new EmulatedPanel(page, origin);
    await page.exposeFunction('__huaju4kToHost', (m: unknown) => {
      panel.fromWebview.push(m);
      return panel.router.handle(m);
    });
    // tsx compiles this file with esbuild's keepNames, so functions handed to the page call `__name`; define it.
    await page.addInitScript({ content: 'window.__name = (f) => f;' });
    await page.addInitScript(emulateWebviewHost, {
      theme: loadTheme(theme),
      defaultStyles: readFileSync(join(FIXTURES, 'vscode-webview-default-styles.css'), 'utf8'),
      stateKey: `huaju4k-${randomUUID()}`,
    } satisfies InitArgs);
    await panel.load();
    return panel;
  }

  /** (Re)loads the webview document, as VS Code does when a hidden panel is shown again or restored. */
  async load(): Promise<void> {
    this.ready = false;
    await this.page.goto(`${this.origin}/`);
    try {
      await this.page.waitForFunction(() => document.body.dataset.huaju4k === 'ready', undefined, { timeout: 15_000 });
    } catch (err) {
      throw new Error(`the monitor script did not start: ${this.consoleErrors.join(' | ') || String(err)}`);
    }
    const deadline = Date.now() + 10_000;
    while (!this.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!this.ready) throw new Error('the webview never posted ready');
  }

  async send(message: HostToWebviewMessage | Record<string, unknown>): Promise<void> {
    await this.page.evaluate((m) => window.postMessage(m, '*'), message);
  }

  async postEngineEvent(jobId: string, event: EngineEvent): Promise<void> {
    const m = this.state.record(jobId, event);
    if (m && this.ready) await this.send(m);
  }

  /** Feeds many events with one round trip (for long runs). */
  async postEngineEvents(jobId: string, events: EngineEvent[]): Promise<void> {
    const messages = events.map((e) => this.state.record(jobId, e)).filter((m) => m !== undefined);
    if (this.ready && messages.length) {
      await this.page.evaluate((ms) => {
        for (const m of ms) window.postMessage(m, '*');
      }, messages);
    }
  }

  async setBackends(rows: MonitorBackendRow[]): Promise<void> {
    const m = this.state.setBackends(rows);
    if (this.ready) await this.send(m);
  }

  /** A backend's newest broadcast frame, as the host relays it (kept for the next init like MonitorPanel). */
  async postBackendFrame(name: string, jpeg: Buffer, ts = Date.now()): Promise<void> {
    const m = this.state.setBackendFrame(name, jpeg, ts);
    if (!m) throw new Error(`frame for ${name} is over the protocol cap`);
    if (this.ready) await this.send(m);
  }

  async setTheme(kind: ThemeKind): Promise<void> {
    await this.page.evaluate(
      (t) => (window as unknown as { __applyTheme: (t: unknown) => void }).__applyTheme(t),
      loadTheme(kind),
    );
  }

  cspViolations(): Promise<string[]> {
    return this.page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
  }
}
