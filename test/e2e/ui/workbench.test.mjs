// UI tests in a real workbench: code-server (VS Code 1.139) + headless chromium through playwright-core.
// The extension is loaded from the repo (extensionDevelopmentPath) and runs the real engine (dist/engine.js).
// Screenshots go to test-artifacts/ (look at them).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installVsix, openBrowser, startCodeServer } from '../../../tools/e2e/code-server.mjs';
import { makeWorkspace } from '../fixtures.mjs';
import { contextMenuItem, explorerRow, runFromPalette } from './helpers.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const artifacts = path.join(repo, 'test-artifacts');
const shot = (page, name) => page.screenshot({ path: path.join(artifacts, name) });

async function openWorkbench({ trust, vsix }) {
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

const slug = (t) => t.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);

/**
 * The text of the notification containing `text`. Headless chromium's page never has window focus, and the
 * workbench then keeps new notifications in the notification center (bell) instead of toasts: open the center.
 */
async function notification(page, text, ms = 60_000) {
  const center = page.locator('.notifications-center');
  const item = page.locator('.notification-list-item', { hasText: text }).first();
  const end = Date.now() + ms;
  for (;;) {
    if (!(await center.isVisible().catch(() => false))) await page.locator('[id="status.notifications"]').click();
    if (await item.isVisible().catch(() => false)) return (await item.textContent()) ?? '';
    if (Date.now() > end) throw new Error(`no notification containing "${text}" in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function closeContextMenu(page) {
  await page.keyboard.press('Escape');
  const block = page.locator('.context-view-block');
  if (await block.isVisible().catch(() => false)) await block.click({ force: true });
  await page.locator('.monaco-menu').first().waitFor({ state: 'hidden', timeout: 5000 });
}

async function waitForFile(file, ms) {
  const end = Date.now() + ms;
  while (!existsSync(file)) {
    if (Date.now() > end) throw new Error(`${file} did not appear in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('workbench UI (code-server + chromium)', () => {
  describe('trusted workspace', () => {
    let wb;
    before(async () => {
      wb = await openWorkbench({ trust: true });
    });
    afterEach(async function () {
      if (this.currentTest?.state === 'failed' && wb) await shot(wb.page, `failed-${slug(this.currentTest.title)}.png`);
    });
    after(async () => wb?.close());

    it('right-click a video in the explorer → "Enhance to 4K" is there (and not on a .txt) and works', async () => {
      const { page, config } = wb;
      // Menus contributed by an extension appear once the extension host has registered it: wait for our view
      // container's icon first.
      await page.locator('.activitybar .action-item a[aria-label^="huaju4k 4K"]').first().waitFor({ timeout: 60_000 });
      const txt = explorerRow(page, 'README.txt');
      await txt.waitFor({ timeout: 60_000 });
      await txt.click({ button: 'right' });
      await page.locator('.monaco-menu').first().waitFor();
      assert.equal(await contextMenuItem(page, 'Enhance to 4K').count(), 0, 'no Enhance on a text file');
      await closeContextMenu(page);

      const row = explorerRow(page, 'clip.mp4');
      await row.click({ button: 'right' });
      const item = contextMenuItem(page, 'Enhance to 4K');
      await item.waitFor({ timeout: 20_000 });
      await shot(page, 'explorer-context-menu.png');
      await item.click();
      const output = config.clip.replace(/\.mp4$/, '.4k.mp4');
      await waitForFile(output, 120_000);
      const note = await notification(page, 'enhanced clip.mp4');
      assert.match(note, /huaju4k: enhanced clip\.mp4 → clip\.4k\.mp4/);
      await shot(page, 'enhance-done-notification.png');
      await page.keyboard.press('Escape');
    });

    it('the Videos tree shows each workspace video with its state', async () => {
      const { page } = wb;
      await page.locator('.activitybar .action-item a[aria-label^="huaju4k 4K"]').first().click();
      const rows = page.locator('.pane-body .monaco-list-row');
      const rowFor = (name) =>
        rows.filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${name.replace('.', '\\.')}$`) }) });
      const clip = rowFor('clip.mp4');
      await clip.waitFor({ timeout: 30_000 });
      const described = async (row, re) => {
        const end = Date.now() + 30_000;
        for (;;) {
          const text = (await row.locator('.label-description').textContent()) ?? '';
          if (re.test(text)) return text;
          if (Date.now() > end) throw new Error(`description "${text}" does not match ${re}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      };
      await described(clip, /^done · 64×36 · 0:02 · 24 fps/);
      await described(rowFor('longclip.mp4'), /^not enhanced · 64×36 · 0:10 · 24 fps/);
      assert.equal(await rowFor('clip.4k.mp4').count(), 0, 'outputs are not listed as videos to enhance');
      assert.equal(await rowFor('README.txt').count(), 0);
      await clip.hover();
      await shot(page, 'videos-tree.png');
    });
  });

  describe('untrusted workspace', () => {
    let wb;
    before(async () => {
      wb = await openWorkbench({ trust: false });
    });
    afterEach(async function () {
      if (this.currentTest?.state === 'failed' && wb) await shot(wb.page, `failed-${slug(this.currentTest.title)}.png`);
    });
    after(async () => wb?.close());

    it('Enhance is refused with a clear reason and nothing is written', async () => {
      const { page, config } = wb;
      // code-server opens an unknown folder straight in Restricted Mode (no prompt; a banner and status item).
      await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 60_000 });
      await page.locator('.activitybar .action-item a[aria-label^="huaju4k 4K"]').first().waitFor({ timeout: 60_000 });
      await runFromPalette(page, 'huaju4k: Enhance to 4K');
      const text = await notification(page, 'Restricted Mode');
      assert.match(text, /enhancing is disabled in Restricted Mode/);
      assert.match(text, /Trust this workspace to enhance videos/);
      await shot(page, 'untrusted-refused.png');
      assert.ok(!existsSync(config.clip.replace(/\.mp4$/, '.4k.mp4')));
    });
  });
  describe('installed from the .vsix (npm run package)', () => {
    let wb;
    before(async function () {
      if (!process.env.HUAJU4K_E2E_VSIX) this.skip();
      wb = await openWorkbench({ trust: true, vsix: process.env.HUAJU4K_E2E_VSIX });
    });
    afterEach(async function () {
      if (this.currentTest?.state === 'failed' && wb)
        await shot(wb.page, `failed-vsix-${slug(this.currentTest.title)}.png`);
    });
    after(async () => wb?.close());

    it('the installed copy enhances a clip from the explorer context menu', async () => {
      const { page, config, extensionsDir } = wb;
      assert.ok(
        readdirSync(extensionsDir).some((d) => d.startsWith('huaju4k.huaju4k-')),
        'installed into the extensions folder',
      );
      await page.locator('.activitybar .action-item a[aria-label^="huaju4k 4K"]').first().waitFor({ timeout: 60_000 });
      const row = explorerRow(page, 'clip.mp4');
      await row.waitFor({ timeout: 60_000 });
      await row.click({ button: 'right' });
      await contextMenuItem(page, 'Enhance to 4K').click();
      await waitForFile(config.clip.replace(/\.mp4$/, '.4k.mp4'), 120_000);
      assert.match(await notification(page, 'enhanced clip.mp4'), /enhanced clip\.mp4 → clip\.4k\.mp4/);
      await shot(page, 'vsix-enhance-done.png');
    });
  });
});
