// Two windows on one running engine (code-server + chromium, real engine): window A enhances longclip.mp4; window B
// opens on the same workspace while the engine runs. Only A follows the engine (its claim beside the engine's events
// file): B's Jobs and Videos views show it "running in another window", not as B's own running job (which B would
// count, cancel and record). Screenshots: test-artifacts/two-windows/*.png.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { killGroup, openBrowser, startCodeServer } from '../../../tools/e2e/code-server.mjs';
import {
  engineOf,
  explorerRow,
  longJobWorkspace,
  openContainer,
  paneRows,
  pollUntil,
  repo,
  runContextMenuItem,
  runFromPalette,
  shot,
} from './helpers.mjs';

const DIR = 'two-windows';
/** A window's own running job row ("running 12% …"), as opposed to "running in another window". */
const OWN = /^longclip\.mp4 running (?!in another window)/;

describe('two windows on one running engine (code-server + chromium, real engine)', () => {
  let root;
  let server;
  let browser;
  let output;
  let url;

  before(async () => {
    // Encoded at 3840x2160 (not the suite's ×4 of the tiny clip): minutes of work, so the job still runs however
    // long the second window takes to come up on a loaded machine.
    const w = longJobWorkspace('huaju4k-two-windows-', { 'huaju4k.scale': 0, 'huaju4k.target': '3840x2160' });
    root = w.root;
    output = w.output;
    const ws = w.ws;
    server = await startCodeServer({ workspace: ws, dir: root });
    browser = await openBrowser(root);
    url = server.url(ws, { dev: repo });
    await browser.page.goto(url);
    await browser.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && browser) {
      for (const [i, p] of browser.context.pages().entries()) await shot(p, `${DIR}/failed-${i}.png`).catch(() => {});
    }
  });

  after(async () => {
    await browser?.context.close().catch(() => {});
    await server?.stop();
    // The engine runs in its own process group, outside code-server's.
    const pid = output && engineOf(output);
    if (pid) killGroup(pid, 'SIGKILL');
    if (root && process.env.HUAJU4K_E2E_KEEP !== '1') rmSync(root, { recursive: true, force: true });
  });

  it('the second window shows the first window’s engine as running in another window, not as its own', async function () {
    this.timeout(600_000);
    const a = browser.page;
    // The extension is up once its Videos view lists the clip; then Enhance from the explorer's context menu.
    await openContainer(a);
    await paneRows(a, 'Videos', (t) => t.some((l) => /^longclip\.mp4 /.test(l)), 'A: Videos lists longclip');
    await runFromPalette(a, 'View: Show Explorer');
    const row = explorerRow(a, 'longclip.mp4');
    await row.waitFor({ timeout: 60_000 });
    await runContextMenuItem(a, row, 'Enhance to 4K');
    await openContainer(a);
    await paneRows(a, 'Jobs', (t) => t.some((l) => /^longclip\.mp4 running /.test(l)), 'A: longclip running');

    const b = await browser.context.newPage();
    await b.goto(url);
    await b.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    // A click on the container's icon while the restored layout is still coming up can close it again: retried.
    await pollUntil(async () => (await openContainer(b)) ?? true, { ms: 120_000, what: 'B: the huaju4k views' });
    const jobsB = await paneRows(
      b,
      'Jobs',
      (t) => t.some((l) => /^longclip\.mp4 running in another window/.test(l)),
      'B: longclip running in another window',
    );
    assert.ok(!jobsB.some((l) => OWN.test(l)), `not B's own: ${jobsB.join(' | ')}`);
    await paneRows(
      b,
      'Videos',
      (t) => t.some((l) => /^longclip\.mp4 running in another window/.test(l)),
      'B: Videos says running in another window',
    );
    await shot(b, `${DIR}/window-b.png`);
    // A still follows it as its own job.
    await a.bringToFront();
    await paneRows(a, 'Jobs', (t) => t.some((l) => OWN.test(l)), 'A: still its own');
    await shot(a, `${DIR}/window-a.png`);
  });
});
