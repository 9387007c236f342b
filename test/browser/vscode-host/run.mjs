// Manual check of the monitor in a real VS Code (code-server 1.139 + chromium, per tools/e2e): builds a throwaway
// extension around the real MonitorPanel, plays test/browser/fixtures/engine-run.jsonl into it, asserts the numbers
// of the last progress event and saves test-artifacts/monitor-vscode-host-<theme>.png. Not part of CI (the panel's
// in-extension-host test belongs in the extension suite); run after `npm run build`:
//   node test/browser/vscode-host/run.mjs            (THEME="Light Modern" for another theme)
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { openBrowser, startCodeServer } from '../../../tools/e2e/code-server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
const theme = process.env.THEME ?? 'Dark Modern';
const runFile = join(root, 'test/browser/fixtures/engine-run.jsonl');
const last = readFileSync(runFile, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l))
  .filter((e) => e.type === 'progress')
  .at(-1);

const dir = mkdtempSync(join(tmpdir(), 'h4k-monitor-host-'));
const ext = join(dir, 'ext');
const ws = join(dir, 'ws');
for (const d of [join(ext, 'dist'), join(ext, 'media'), ws, join(dir, 'user-data', 'User')])
  mkdirSync(d, { recursive: true });
writeFileSync(
  join(ext, 'package.json'),
  JSON.stringify({
    name: 'huaju4k-monitor-check',
    publisher: 'huaju4k',
    version: '0.0.0',
    engines: { vscode: '^1.90.0' },
    main: './dist/extension.js',
    activationEvents: ['onStartupFinished'],
  }),
);
await build({
  entryPoints: [join(here, 'extension.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  external: ['vscode'],
  outfile: join(ext, 'dist', 'extension.js'),
  logLevel: 'warning',
});
for (const f of ['webview.js', 'webview.css']) copyFileSync(join(root, 'dist', f), join(ext, 'dist', f));
copyFileSync(join(root, 'media', 'icon.png'), join(ext, 'media', 'icon.png'));
writeFileSync(
  join(dir, 'user-data', 'User', 'settings.json'),
  JSON.stringify({ 'workbench.colorTheme': theme, 'workbench.startupEditor': 'none', 'chat.disableAIFeatures': true }),
);

const cs = await startCodeServer({ workspace: ws, dir, env: { HUAJU4K_MONITOR_RUN: runFile } });
const { context, page } = await openBrowser(dir);
let failed = false;
try {
  await page.goto(cs.url(ws, { dev: ext }));
  const frame = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  await frame.locator('body[data-huaju4k="ready"]').waitFor({ state: 'attached', timeout: 90_000 });
  const frames = `${last.frame} / ${last.total}`;
  await frame.locator('[data-stat="frames"]', { hasText: frames }).waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1500);
  const stats = await frame.locator('body').evaluate(() => window.__huaju4kMonitor.stats());
  console.log(`monitor in code-server (${theme}):`, JSON.stringify(stats));
  if (stats.points.fps < 2 || stats.previewsShown < 2 || stats.rejectedMessages !== 0)
    throw new Error('monitor did not fill');
  const out = join(root, 'test-artifacts', `monitor-vscode-host-${theme.toLowerCase().replace(/\W+/g, '-')}.png`);
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out });
  console.log(`ok: ${frames} shown; screenshot ${out}`);
} catch (err) {
  failed = true;
  console.error(`FAILED: ${err instanceof Error ? err.message : err}; log: ${cs.logFile}`);
} finally {
  await context.close();
  await cs.stop();
  if (!failed) rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
