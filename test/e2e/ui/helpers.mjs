import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installVsix, openBrowser, startCodeServer } from '../../../tools/e2e/code-server.mjs';
import { LONG_FRAMES, makeClip, makeWorkspace } from '../fixtures.mjs';

// Workbench helpers for the chromium UI tests (playwright-core page on code-server). Everything polls: the
// workbench and the extension host update asynchronously after each action.

/** Polls `fn` until it returns a value other than undefined/false; throws with `what` after `ms`. */
export async function pollUntil(fn, { ms = 30_000, every = 200, what = 'condition' } = {}) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * Puts an unpacked extension folder into a fresh extensions folder before code-server starts: on first start the
 * server registers every folder it finds there (extensions.json), as if installed. Used for test helper
 * extensions next to the one under development (the web workbench loads only one extensionDevelopmentPath).
 */
export function preinstallExtensionFolder(src, extensionsDir) {
  const manifest = JSON.parse(readFileSync(path.join(src, 'package.json'), 'utf8'));
  const dest = path.join(extensionsDir, `${manifest.publisher}.${manifest.name}-${manifest.version}`);
  cpSync(src, dest, { recursive: true });
  return `${manifest.publisher}.${manifest.name}`;
}

/** Runs a command from the palette (F1), retrying while the workbench is still registering commands. */
export async function runFromPalette(page, title) {
  const input = page.locator('.quick-input-widget input');
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('F1');
    await input.waitFor();
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    try {
      await row.waitFor({ timeout: 5000 });
      await page.keyboard.press('Enter');
      return;
    } catch (err) {
      await page.keyboard.press('Escape');
      if (attempt >= 5) throw err;
    }
  }
}

/** An explorer row whose file name is exactly `name`. */
export function explorerRow(page, name) {
  return page
    .locator('.explorer-folders-view .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${name.replace('.', '\\.')}$`) }) });
}

export function contextMenuItem(page, label) {
  return page.locator('.monaco-menu .action-item .action-label', { hasText: new RegExp(`^${label}$`) });
}

/**
 * Right-clicks `row` and runs the context menu item `label`. On a loaded machine a click can land while the menu
 * is still laying out and be dropped (the menu stays open): then the item is chosen again, by keyboard.
 */
export async function runContextMenuItem(page, row, label) {
  await row.click({ button: 'right' });
  await chooseMenuItem(page, label);
}

/** Runs the item `label` of the context menu that is open (a dropped click chosen again, as runContextMenuItem). */
export async function chooseMenuItem(page, label) {
  const item = contextMenuItem(page, label);
  await item.click({ timeout: 20_000 });
  const menu = page.locator('.monaco-menu').first();
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await menu.waitFor({ state: 'hidden', timeout: 2000 });
      return;
    } catch {
      await item.hover();
      await page.keyboard.press('Enter');
    }
  }
  await menu.waitFor({ state: 'hidden', timeout: 2000 });
}

/** The DOM of the (single) webview panel open in the workbench. */
export function webviewFrame(page) {
  return page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
}

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const artifacts = path.join(repo, 'test-artifacts');
/** A screenshot into test-artifacts/ (`name` may hold a subfolder). */
export async function shot(page, name) {
  const file = path.join(artifacts, name);
  mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file });
}

export async function openWorkbench({ trust, vsix }) {
  const root = mkdtempSync(path.join(tmpdir(), 'huaju4k-ui-'));
  const { ws, config } = makeWorkspace(root, {
    reportFile: path.join(root, 'report.txt'),
    engineSupportsResume: false,
  });
  const extensionsDir = path.join(root, 'extensions');
  if (vsix) installVsix(vsix, extensionsDir);
  const server = await startCodeServer({ workspace: ws, dir: root, trust, extensionsDir });
  const { context, page } = await openBrowser(root);
  // Without a .vsix the extension is loaded from the repo (extensionDevelopmentPath).
  await page.goto(server.url(ws, vsix ? {} : { dev: repo }));
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  const close = async () => {
    await context.close().catch(() => {});
    await server.stop();
    if (process.env.HUAJU4K_E2E_KEEP !== '1') rmSync(root, { recursive: true, force: true });
  };
  return { ws, config, page, close, server, extensionsDir };
}

export const slug = (t) => t.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);

/**
 * The text of the notification containing `text`. Headless chromium's page never has window focus, and the
 * workbench then keeps new notifications in the notification center (bell) instead of toasts: open the center.
 */
export async function notification(page, text, ms = 60_000) {
  const item = page.locator('.notification-list-item', { hasText: text }).first();
  const end = Date.now() + ms;
  for (;;) {
    await openNotificationCenter(page);
    if (await item.isVisible().catch(() => false)) return (await item.textContent()) ?? '';
    if (Date.now() > end) throw new Error(`no notification containing "${text}" in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function openNotificationCenter(page) {
  const open = await page
    .locator('.notifications-center')
    .isVisible()
    .catch(() => false);
  if (!open) await page.locator('[id="status.notifications"]').click();
}

/** The text of every notification in the notification center now. */
export async function notificationTexts(page) {
  await openNotificationCenter(page);
  return page.locator('.notification-list-item').allTextContents();
}

export async function closeContextMenu(page) {
  await page.keyboard.press('Escape');
  const block = page.locator('.context-view-block');
  if (await block.isVisible().catch(() => false)) await block.click({ force: true });
  await page.locator('.monaco-menu').first().waitFor({ state: 'hidden', timeout: 5000 });
}

export async function waitForFile(file, ms) {
  const end = Date.now() + ms;
  while (!existsSync(file)) {
    if (Date.now() > end) throw new Error(`${file} did not appear in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A pane of the huaju4k view container by its title ("Videos", "Jobs"). */
export function pane(page, title) {
  return page.locator('.pane', { has: page.locator('.pane-header h3.title', { hasText: new RegExp(`^${title}$`) }) });
}

/** The rows of a pane as "label description" lines, polled until `pred` holds. */
export async function paneRows(page, title, pred, what, ms = 120_000) {
  const rows = pane(page, title).locator('.monaco-list-row');
  return pollUntil(
    async () => {
      const texts = [];
      for (const r of await rows.all()) {
        const name = (await r.locator('.label-name').first().textContent()) ?? '';
        const desc =
          (await r
            .locator('.label-description')
            .first()
            .textContent()
            .catch(() => '')) ?? '';
        texts.push(`${name} ${desc}`.trim());
      }
      return pred(texts) ? texts : undefined;
    },
    { ms, what },
  );
}

/**
 * Shows the huaju4k view container (its activity bar icon) with the Jobs pane. The icon toggles the side bar: after
 * a window reload the restored container may still be drawing its panes when first looked at, and a click then
 * closes it (a CI run failed so) — so: wait a moment for the pane, click only when it has not come, and look again.
 */
export async function openContainer(page) {
  const icon = page.locator('.activitybar .action-item a[aria-label^="huaju4k 4K"]').first();
  await icon.waitFor({ timeout: 60_000 });
  const jobs = pane(page, 'Jobs');
  const shown = (ms) =>
    jobs.waitFor({ timeout: ms }).then(
      () => true,
      () => false,
    );
  for (let i = 0; i < 4; i++) {
    if (await shown(i === 0 ? 3_000 : 8_000)) return;
    await icon.click();
  }
  await jobs.waitFor({ timeout: 30_000 });
}

/**
 * A workspace whose Enhance runs the whole long clip (`frames`, 240 by default), with a quiet workbench
 * (application-scoped settings such as the chat side bar and the Welcome tab are read from the user's settings only).
 * `output`: longclip's; `settings`: more workspace settings. A test that needs the job still running when a reloaded
 * window comes up asks for more frames: the engine got fast enough to enhance 240 tiny frames in ~12 s on a loaded
 * 2-core machine, before a reloaded window had re-attached.
 */
export function longJobWorkspace(prefix, settings = {}, frames = LONG_FRAMES) {
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  const { ws, config } = makeWorkspace(root, {
    reportFile: path.join(root, 'report.txt'),
    engineSupportsResume: true,
    settings: { 'huaju4k.maxFrames': 0, ...settings },
  });
  if (frames !== LONG_FRAMES) makeClip(config.longClip, frames, 'mandelbrot');
  mkdirSync(path.join(root, 'user-data', 'User'), { recursive: true });
  writeFileSync(
    path.join(root, 'user-data', 'User', 'settings.json'),
    JSON.stringify({ 'workbench.secondarySideBar.defaultVisibility': 'hidden', 'workbench.startupEditor': 'none' }),
  );
  return { root, ws, output: config.longClip.replace(/\.mp4$/, '.4k.mp4') };
}

export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The engine working on `output` (the pid in its work folder's lock, src/protocol/engine-lock.ts), if alive. */
export function engineOf(output) {
  try {
    const pid = Number.parseInt(readFileSync(`${output}.huaju4k/lock`, 'utf8'), 10);
    return pid > 0 && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}
