import { cpSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

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
