// Captures the real `--vscode-*` CSS variables and body classes that VS Code (code-server 1.139) gives a webview in
// each built-in theme, into test/browser/fixtures/theme-<kind>.json. Run once by hand when VS Code's theming
// changes: `node test/browser/capture-theme-vars.mjs` (installs code-server like the e2e tests; needs /usr/bin/chromium).
// The browser test then hosts the monitor with exactly these variables, without starting code-server.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openBrowser, startCodeServer } from '../../tools/e2e/code-server.mjs';

const themes = JSON.parse(process.env.THEMES ?? 'null') ?? {
  dark: 'Dark Modern',
  light: 'Light Modern',
  hc: 'Default High Contrast',
};
const out = resolve('test/browser/fixtures');

for (const [kind, theme] of Object.entries(themes)) {
  const t = mkdtempSync(join(tmpdir(), 'h4k-theme-'));
  const ws = join(t, 'ws');
  mkdirSync(join(t, 'user-data', 'User'), { recursive: true });
  mkdirSync(ws);
  writeFileSync(join(ws, 'a.md'), '# hello\n');
  writeFileSync(
    join(t, 'user-data', 'User', 'settings.json'),
    JSON.stringify({ 'workbench.colorTheme': theme, 'workbench.startupEditor': 'none' }),
  );
  const server = await startCodeServer({ workspace: ws, dir: t });
  const { context, page } = await openBrowser(t);
  try {
    await page.goto(server.url(ws));
    await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
    await page.waitForTimeout(3000);
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'a.md' }).first().click();
    await page.waitForTimeout(2000);
    // The markdown extension may still be activating: retry the preview shortcut until a webview appears.
    for (let attempt = 0; attempt < 6; attempt++) {
      await page.locator('.monaco-editor textarea').first().focus();
      await page.keyboard.press('Control+Shift+V');
      try {
        await page.locator('iframe.webview.ready').first().waitFor({ state: 'attached', timeout: 8000 });
        break;
      } catch {}
    }
    await page.waitForTimeout(1000);
    await page.screenshot({ path: `test-artifacts/theme-capture-${kind}.png` });
    const frame = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    await frame.locator('body').waitFor({ state: 'attached', timeout: 60000 });
    await page.waitForTimeout(1000);
    const captured = await frame.locator('html').evaluate((html) => {
      const vars = {};
      for (let i = 0; i < html.style.length; i++) {
        const name = html.style[i];
        if (name.startsWith('--')) vars[name] = html.style.getPropertyValue(name).trim();
      }
      return {
        // VS Code's theme classes only, not the markdown preview's own (vscode-body, wordWrap, ...).
        bodyClass: [...document.body.classList].filter((c) => c.startsWith('vscode-') && c !== 'vscode-body').join(' '),
        themeKind: document.body.dataset.vscodeThemeKind,
        themeId: document.body.dataset.vscodeThemeId,
        vars,
      };
    });
    captured.theme = theme;
    captured.source = 'code-server 4.139.1 (VS Code 1.139.1) markdown preview webview';
    writeFileSync(join(out, `theme-${kind}.json`), `${JSON.stringify(captured, null, 1)}\n`);
    console.log(kind, theme, Object.keys(captured.vars).length, 'vars', captured.bodyClass);
  } finally {
    await context.close().catch(() => {});
    await server.stop();
    rmSync(t, { recursive: true, force: true });
  }
}
