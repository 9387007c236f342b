// The monitor panel in a real workbench (code-server 1.139 + chromium) fed by a real engine run: open
// "huaju4k: Show Monitor", enhance a tiny moving clip from the explorer, and check the panel against the engine
// events the extension reported through its API (recorded by ./event-recorder, installed next to it).
// Screenshots: test-artifacts/monitor-host-{dark,light}.png (look at them).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBrowser, startCodeServer } from '../../../tools/e2e/code-server.mjs';
import { QUIET_WORKBENCH } from '../fixtures.mjs';
import {
  explorerRow,
  pollUntil,
  preinstallExtensionFolder,
  runContextMenuItem,
  runFromPalette,
  webviewFrame,
} from './helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
const artifacts = path.join(repo, 'test-artifacts');
const recorder = path.join(here, 'event-recorder');

// 96x54 testsrc2 (a moving picture, so consecutive previews differ) for 48 frames: ~6 s of engine work at 4K
// output on this machine's 2 CPU cores, long enough for several one-per-second previews.
const CLIP = { width: 96, height: 54, frames: 48 };
// Tall enough that the whole panel (header to backends) is in the screenshot.
const SCREENSHOT_VIEWPORT = { width: 1400, height: 1900 };
const THEMES = { dark: 'Dark Modern', light: 'Light Modern' };

function workspaceSettings(theme) {
  return {
    'huaju4k.model': 'realesr-animevideov3-x4',
    'huaju4k.maxFrames': CLIP.frames,
    'huaju4k.preset': 'ultrafast',
    'workbench.colorTheme': theme,
    ...QUIET_WORKBENCH,
  };
}

function makeMonitorWorkspace(root) {
  const ws = path.join(root, 'ws');
  mkdirSync(path.join(ws, '.vscode'), { recursive: true });
  const clip = path.join(ws, 'clip.mp4');
  // biome-ignore format: ffmpeg argv reads best as option/value pairs
  execFileSync('ffmpeg', [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${CLIP.width}x${CLIP.height}:rate=24`,
    '-frames:v', String(CLIP.frames), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', clip,
  ]);
  const settingsFile = path.join(ws, '.vscode', 'settings.json');
  writeFileSync(settingsFile, JSON.stringify(workspaceSettings(THEMES.dark), null, 2));
  return { ws, clip, settingsFile };
}

/** The engine events the extension reported (event-recorder's JSON lines), grouped for one job. */
function readEvents(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((r) => r.event);
}

function jobEvents(file, jobId) {
  const all = readEvents(file).filter((r) => r.jobId === jobId);
  const of = (type) => all.filter((r) => r.event.type === type).map((r) => r.event);
  return {
    all,
    start: of('start')[0],
    progress: of('progress'),
    samples: of('sample'),
    previews: of('preview'),
    done: of('done')[0],
  };
}

/** Everything the test reads from the panel in one round trip. */
function readPanel(frame) {
  return frame.locator('body').evaluate(() => {
    const stat = (k) => document.querySelector(`[data-stat="${k}"]`)?.textContent?.trim() ?? '';
    const compare = document.querySelector('.compare');
    const points = {};
    for (const p of document.querySelectorAll('.plot[data-chart]')) {
      points[p.getAttribute('data-chart')] = Number(p.getAttribute('data-points') ?? 0);
    }
    return {
      monitor: window.__huaju4kMonitor.stats(),
      percent: stat('percent'),
      frames: stat('frames'),
      fps: stat('fps'),
      eta: stat('eta'),
      previewFrame: Number(compare?.getAttribute('data-frame') ?? -1),
      previewSrcs: [...(compare?.querySelectorAll('img') ?? [])].map((i) => i.getAttribute('src') ?? ''),
      points,
      cpuCard: document.querySelector('.chart-vram.is-cpu .cpu-state:not([hidden])') !== null,
      bodyTheme: document.body.className,
    };
  });
}

/** "3.85 fps" / "52%" / "4.2%": the number, and half a unit of the last shown digit (the display's rounding). */
function shownNumber(text, unit) {
  const m = new RegExp(`^(-?\\d+(?:\\.(\\d+))?)\\s*${unit}$`).exec(text);
  if (!m) return undefined;
  return { value: Number(m[1]), halfUlp: 0.5 * 10 ** -(m[2]?.length ?? 0) + 1e-9 };
}

/** "m:ss" or "h:mm:ss" → seconds. */
function shownSeconds(text) {
  if (!/^\d+(:\d\d){1,2}$/.test(text)) return undefined;
  return text.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

/** Differences between what the panel shows and a progress event (empty when they agree). */
function progressMismatch(panel, p, { running }) {
  const out = [];
  if (panel.frames !== `${p.frame} / ${p.total}`) out.push(`frames "${panel.frames}" vs ${p.frame} / ${p.total}`);
  const fps = shownNumber(panel.fps, 'fps');
  if (!fps || Math.abs(fps.value - p.fps) > fps.halfUlp) out.push(`fps "${panel.fps}" vs ${p.fps}`);
  const pct = shownNumber(panel.percent, '%');
  const expectedPct = (p.frame / p.total) * 100;
  // Floored, as the Videos tree (src/protocol/percent.ts): never above the truth, less than one shown step below it.
  const floored = pct && pct.value <= expectedPct + 1e-9 && expectedPct < pct.value + 2 * pct.halfUlp;
  if (!floored) out.push(`percent "${panel.percent}" vs ${expectedPct}`);
  if (running) {
    const eta = shownSeconds(panel.eta);
    if (eta === undefined || Math.abs(eta - p.etaS) > 0.5 + 1e-9) out.push(`eta "${panel.eta}" vs ${p.etaS} s`);
  }
  return out;
}

describe('monitor panel in the real workbench (code-server + chromium, real engine)', () => {
  let root;
  let server;
  let browser;
  let page;
  let frame;
  let eventsFile;
  let ws;
  let jobId;

  before(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'huaju4k-monitor-ui-'));
    eventsFile = path.join(root, 'events.jsonl');
    ws = makeMonitorWorkspace(root);
    const extensionsDir = path.join(root, 'extensions');
    preinstallExtensionFolder(recorder, extensionsDir);
    // Application-scoped settings (an empty chat side bar, the Welcome tab) are read from the user's settings only.
    mkdirSync(path.join(root, 'user-data', 'User'), { recursive: true });
    writeFileSync(
      path.join(root, 'user-data', 'User', 'settings.json'),
      JSON.stringify({
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'workbench.startupEditor': 'none',
        'chat.disableAIFeatures': true,
      }),
    );
    server = await startCodeServer({
      workspace: ws.ws,
      dir: root,
      extensionsDir,
      env: { HUAJU4K_E2E_EVENTS: eventsFile },
    });
    browser = await openBrowser(root);
    page = browser.page;
    await page.goto(server.url(ws.ws, { dev: repo }));
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    frame = webviewFrame(page);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) {
      await page.screenshot({ path: path.join(artifacts, 'failed-monitor-host.png') }).catch(() => {});
    }
  });

  after(async () => {
    await browser?.context.close().catch(() => {});
    await server?.stop();
    if (root && process.env.HUAJU4K_E2E_KEEP !== '1') rmSync(root, { recursive: true, force: true });
  });

  it('shows a live run: changing preview, charts with points, the numbers of the last progress event', async () => {
    // Both extensions are up once the recorder has subscribed to huaju4k's API.
    await pollUntil(() => existsSync(eventsFile), { ms: 90_000, what: 'the event recorder extension to start' });

    await runFromPalette(page, 'huaju4k: Show Monitor');
    await frame.locator('body[data-huaju4k="ready"]').waitFor({ state: 'attached', timeout: 90_000 });

    // Enhance from the explorer while the panel is open, so it follows the run live.
    const row = explorerRow(page, 'clip.mp4');
    await row.waitFor({ timeout: 60_000 });
    await runContextMenuItem(page, row, 'Enhance to 4K');
    jobId = await pollUntil(() => readEvents(eventsFile).find((r) => r.event.type === 'start')?.jobId, {
      ms: 60_000,
      what: 'the engine start event',
    });
    // Give the panel the whole editor width, as a user watching a run would.
    await page.keyboard.press('Control+B');

    // Numbers while running: the panel agrees with the newest progress event (read before and after the DOM, so
    // an event arriving in between does not count as a mismatch).
    let lastMismatch = [];
    const live = await pollUntil(
      async () => {
        const before = jobEvents(eventsFile, jobId).progress.at(-1);
        const p = await readPanel(frame);
        const after = jobEvents(eventsFile, jobId);
        if (after.done) return { ended: true };
        if (!before || before.ts !== after.progress.at(-1).ts) return false;
        lastMismatch = progressMismatch(p, before, { running: true });
        return lastMismatch.length === 0 && p.monitor.status === 'running' ? { ended: false, p } : false;
      },
      { ms: 30_000, every: 100, what: 'the panel to show the newest progress event' },
    );
    assert.ok(!live.ended, `the run ended before the panel matched a progress event: ${lastMismatch.join('; ')}`);

    // Preview: a frame the engine sent, then a later one with a different image.
    const first = await pollUntil(
      async () => {
        const p = await readPanel(frame);
        return p.monitor.jobId === jobId && p.previewFrame >= 0 && p.previewSrcs.length === 2 ? p : undefined;
      },
      { ms: 60_000, what: 'the first preview frame' },
    );
    const second = await pollUntil(
      async () => {
        const p = await readPanel(frame);
        return p.previewFrame > first.previewFrame ? p : undefined;
      },
      { ms: 30_000, what: `a preview newer than frame ${first.previewFrame}` },
    );
    const sentFrames = new Set(jobEvents(eventsFile, jobId).previews.map((e) => e.frame));
    for (const shown of [first, second]) {
      assert.ok(sentFrames.has(shown.previewFrame), `preview frame ${shown.previewFrame} was sent by the engine`);
    }
    assert.notDeepEqual(second.previewSrcs, first.previewSrcs, 'the preview images were replaced');
    for (const src of [...first.previewSrcs, ...second.previewSrcs]) assert.match(src, /^(blob|data):/);

    // Done: final numbers, every progress/sample event charted, no message rejected.
    const done = await pollUntil(() => jobEvents(eventsFile, jobId).done, { ms: 120_000, what: 'the done event' });
    const events = jobEvents(eventsFile, jobId);
    const last = events.progress.at(-1);
    const final = await pollUntil(
      async () => {
        const p = await readPanel(frame);
        // The store turns to done at once; the DOM follows at the next animation frame (which a headless page
        // may delay): wait for the rendered text too, or the reads below race the render.
        return p.monitor.status === 'done' && p.eta === 'done' ? p : undefined;
      },
      { ms: 20_000, what: 'the panel to show Done' },
    );
    assert.equal(final.frames, `${done.frames} / ${done.frames}`);
    assert.equal(last.frame, done.frames, 'the last progress event is the last frame');
    assert.deepEqual(progressMismatch(final, last, { running: false }), []);
    assert.equal(final.monitor.rejectedMessages, 0);
    assert.ok(final.monitor.previewsShown >= 2, `previews shown: ${final.monitor.previewsShown}`);
    assert.equal(final.monitor.points.fps, events.progress.length, 'one throughput point per progress event');
    assert.equal(final.monitor.points.memory, events.samples.length, 'one memory point per sample event');
    for (const chart of ['fps', 'memory', 'disk']) {
      assert.ok(final.points[chart] > 0, `${chart} chart has points (${JSON.stringify(final.points)})`);
      assert.equal(final.points[chart], final.monitor.points[chart], `${chart} chart draws the whole series`);
    }
    const gpuInUse = events.samples.some((s) => s.gpu?.available);
    if (gpuInUse) assert.ok(final.points.vram > 0, 'VRAM chart has points');
    else assert.ok(final.cpuCard, 'no GPU in use: the VRAM card shows the CPU state');
    console.log(
      `      run: ${events.progress.length} progress, ${events.samples.length} samples, ${events.previews.length} previews; panel showed frames ${first.previewFrame} → ${second.previewFrame}; ${final.fps}`,
    );
  });

  for (const [name, theme] of Object.entries(THEMES)) {
    it(`screenshot in ${theme} (test-artifacts/monitor-host-${name}.png)`, async function () {
      if (!jobId) this.skip();
      const settings = JSON.parse(readFileSync(ws.settingsFile, 'utf8'));
      if (settings['workbench.colorTheme'] !== theme) {
        writeFileSync(ws.settingsFile, JSON.stringify({ ...settings, 'workbench.colorTheme': theme }, null, 2));
      }
      const kind = name === 'dark' ? 'vscode-dark' : 'vscode-light';
      await pollUntil(async () => (await readPanel(frame)).bodyTheme.split(/\s+/).includes(kind), {
        ms: 30_000,
        what: `the webview to switch to ${kind}`,
      });
      await page.setViewportSize(SCREENSHOT_VIEWPORT);
      // Charts recolour on the theme change and redraw on the resize (a frame later): let the canvas settle.
      await page.waitForTimeout(500);
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, `monitor-host-${name}.png`) });
    });
  }
});
