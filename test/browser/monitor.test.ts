/**
 * The monitor webview in a real chromium: the real bundle under the panel's real CSP, fed a real engine run
 * (fixtures/engine-run.jsonl, recorded with `node dist/engine.js enhance media/sample.mp4 --json --max-frames 8`)
 * through the panel's own host logic. Screenshots go to test-artifacts/monitor-*.png.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { type EngineEvent, ExitCode, type ProgressEvent, parseEngineEvent } from '../../src/protocol/engine-events';
import { WEBVIEW_PROTOCOL_VERSION as v } from '../../src/protocol/webview-messages';
import { formatFps } from '../../webview/format';
import {
  errorEvent,
  gpuState,
  progressEvent,
  sampleEvent,
  segmentEvent,
  startEvent,
  warningEvent,
} from '../unit/monitor/engine-event-fixtures';
import { EmulatedPanel, launchChromium, ROOT, startServer } from './harness';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const JOB = 'job-browser-1';

interface MonitorStats {
  jobId: string | null;
  status: string;
  previewFrame: number;
  previewsShown: number;
  liveBlobUrls: number;
  backendThumbUrls: number;
  backendFramesShown: Record<string, number>;
  rejectedMessages: number;
  points: { fps: number; memory: number; vram: number; disk: number };
}

function loadRun(): EngineEvent[] {
  const lines = readFileSync(join(__dirname, 'fixtures', 'engine-run.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean);
  const events = lines.map((l) => parseEngineEvent(l));
  assert.ok(
    events.every((e) => e !== undefined),
    'the recorded engine run no longer parses: re-record it',
  );
  return events as EngineEvent[];
}

async function stats(panel: EmulatedPanel): Promise<MonitorStats> {
  return panel.page.evaluate(() =>
    (window as unknown as { __huaju4kMonitor: { stats(): MonitorStats } }).__huaju4kMonitor.stats(),
  );
}

/** A hash of the pixels the "after" image shows, read back through a canvas. */
async function afterPixels(panel: EmulatedPanel): Promise<string> {
  return panel.page.evaluate(() => {
    const img = document.querySelector<HTMLImageElement>('.compare-img.after');
    if (!img?.complete || img.naturalWidth === 0) return 'none';
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    if (!ctx) return 'no-2d';
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let h = 2166136261;
    for (let i = 0; i < d.length; i += 7) h = Math.imul(h ^ d[i], 16777619) >>> 0;
    return `${c.width}x${c.height}:${h.toString(16)}`;
  });
}

async function text(panel: EmulatedPanel, selector: string): Promise<string> {
  return (await panel.page.locator(selector).first().textContent())?.trim() ?? '';
}

async function settle(panel: EmulatedPanel): Promise<void> {
  // Two animation frames: the store renders at most once per frame.
  await panel.page.evaluate(
    () => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))),
  );
}

describe('monitor webview in chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let server: Server;
  let origin: string;
  let requests: string[];
  const run = loadRun();
  const progress = run.filter((e): e is ProgressEvent => e.type === 'progress');
  const previews = run.filter((e) => e.type === 'preview');

  before(async () => {
    for (const f of ['dist/webview.js', 'dist/webview.css']) {
      assert.ok(existsSync(join(ROOT, f)), `${f} is missing: run \`npm run build\` first`);
    }
    const srcTime = statSync(join(ROOT, 'webview', 'main.ts')).mtimeMs;
    if (statSync(join(ROOT, 'dist', 'webview.js')).mtimeMs < srcTime) {
      console.warn('      note: dist/webview.js is older than webview/main.ts — run `npm run build`');
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ origin, server, requests } = await startServer());
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  it('loads under the panel CSP, says ready, and shows clear empty states', async () => {
    const panel = await EmulatedPanel.open(browser, origin, 'dark');
    try {
      assert.deepEqual(panel.fromWebview[0], { v, type: 'ready' });
      await settle(panel);
      assert.ok(await panel.page.locator('.empty-state').isVisible());
      assert.match(await text(panel, '.empty-state h1'), /No enhancement running/);
      assert.ok(await panel.page.locator('.backends-empty').isVisible());
      assert.deepEqual(await panel.cspViolations(), []);
      assert.deepEqual(panel.consoleErrors, []);
      // Only the panel's own resources were requested: no remote content.
      assert.ok(
        requests.every((p) => p === '/' || p.startsWith('/dist/') || p === '/favicon.ico'),
        requests.join(),
      );
    } finally {
      await panel.page.close();
    }
  });

  it('plays a real engine run: preview changes, charts fill, numbers equal the last progress', async () => {
    const panel = await EmulatedPanel.open(browser, origin, 'dark');
    try {
      const hashes: string[] = [];
      let previewIndex = 0;
      for (const event of run) {
        if (event.type === 'done') break;
        await panel.postEngineEvent(JOB, event);
        if (event.type === 'preview') {
          previewIndex++;
          await panel.page.waitForFunction(
            (f) => document.querySelector('.compare')?.getAttribute('data-frame') === String(f),
            event.frame,
          );
          if (previewIndex === 2 || previewIndex === previews.length) hashes.push(await afterPixels(panel));
        }
        if (event.type === 'progress') {
          await settle(panel);
          assert.equal(await text(panel, '[data-stat="frames"]'), `${event.frame} / ${event.total}`);
          assert.equal(await text(panel, '[data-stat="fps"]'), `${formatFps(event.fps)} fps`);
        }
      }
      await settle(panel);
      assert.equal(hashes.length, 2);
      assert.notEqual(hashes[0], 'none');
      assert.notEqual(hashes[0], hashes[1], 'the preview image did not change between two reads');

      const last = progress.at(-1);
      assert.ok(last);
      assert.equal(await text(panel, '[data-stat="frames"]'), `${last.frame} / ${last.total}`);
      assert.equal(await text(panel, '[data-stat="fps"]'), `${formatFps(last.fps)} fps`);
      assert.equal(await text(panel, '[data-stat="percent"]'), `${Math.floor((last.frame / last.total) * 100)}%`);
      assert.equal(
        await panel.page.locator('.bar').getAttribute('aria-valuenow'),
        String(Math.floor((last.frame / last.total) * 100)),
      );
      // Every frame is upscaled, `done` has not come: the engine joins segments and verifies, and says so.
      assert.equal(last.frame, last.total, 'the recorded run ends on its last frame');
      assert.equal(await text(panel, '.status-pill'), 'Finalizing: joining segments, verifying');
      assert.equal(await text(panel, '[data-stat="eta"]'), 'finalizing');
      // This run has no tile reuse: no "Reuse ratio: not reported" row.
      assert.ok(!(await panel.page.locator('.reuse-row').isVisible()));
      assert.match(await text(panel, '.job-title'), /sample\.mp4 → /);

      const s = await stats(panel);
      assert.equal(s.status, 'running');
      assert.equal(s.points.fps, progress.length);
      assert.equal(s.points.memory, run.filter((e) => e.type === 'sample').length);
      assert.ok(s.points.disk > 1);
      assert.ok(s.liveBlobUrls <= 2, `blob URLs kept: ${s.liveBlobUrls}`);
      for (const chart of ['fps', 'memory', 'disk']) {
        const box = panel.page.locator(`.plot[data-chart="${chart}"]`);
        assert.equal(
          await box.getAttribute('data-points'),
          String(chart === 'fps' ? progress.length : s.points.memory),
        );
        assert.ok(((await box.locator('canvas').boundingBox())?.width ?? 0) > 200, `${chart} chart has no size`);
      }
      // No GPU in this run: the VRAM card says CPU instead of drawing an empty chart.
      assert.ok(await panel.page.locator('.chart-vram .cpu-state').isVisible());
      assert.equal(await text(panel, '.chart-vram .card-figure'), 'CPU');
      assert.equal(await panel.page.locator('.chart-vram').getByText('CPU', { exact: true }).count(), 1, 'CPU once');

      await panel.setBackends([
        {
          name: 'studio-hub',
          url: 'http://127.0.0.1:8765',
          reachable: true,
          subscribers: 3,
          fps: 29.97,
          relay: 'connected',
          heartbeatAgeS: 0.8,
        },
        { name: 'render-box', url: 'http://10.0.0.12:8000', reachable: false, error: 'ECONNREFUSED' },
      ]);
      await settle(panel);
      assert.equal(await panel.page.locator('.backends-table tbody tr').count(), 2);
      assert.ok(!(await panel.page.locator('.backends-empty').isVisible()));

      await panel.page.screenshot({ path: join(ARTIFACTS, 'monitor-dark.png'), fullPage: true });
      await panel.setTheme('light');
      await settle(panel);
      await panel.page.waitForTimeout(100);
      await panel.page.screenshot({ path: join(ARTIFACTS, 'monitor-light.png'), fullPage: true });
      await panel.setTheme('hc');
      await settle(panel);
      await panel.page.waitForTimeout(100);
      await panel.page.screenshot({ path: join(ARTIFACTS, 'monitor-hc.png'), fullPage: true });

      // Beside an editor the panel is narrow: everything stacks into one column.
      await panel.setTheme('dark');
      await panel.page.setViewportSize({ width: 520, height: 1000 });
      await settle(panel);
      await panel.page.waitForTimeout(150);
      await panel.page.screenshot({ path: join(ARTIFACTS, 'monitor-narrow-dark.png'), fullPage: true });
      const widths = await panel.page.evaluate(() =>
        [...document.querySelectorAll('.card')].map((c) => c.getBoundingClientRect().right),
      );
      assert.ok(
        widths.every((r) => r <= 520),
        `a card overflows the narrow panel: ${widths.join()}`,
      );
      assert.ok(
        (await panel.page.evaluate(() => document.documentElement.scrollWidth)) <= 520,
        'the page scrolls sideways',
      );
      await panel.page.setViewportSize({ width: 1100, height: 1250 });

      // The run ends: the bar completes, ETA reads done, reveal output becomes available.
      const done = run.find((e) => e.type === 'done');
      assert.ok(done);
      await panel.postEngineEvent(JOB, done);
      await settle(panel);
      assert.equal((await stats(panel)).status, 'done');
      assert.equal(await text(panel, '[data-stat="percent"]'), '100%');
      assert.equal(await panel.page.locator('.done-audio').count(), 0, 'the recorded run copied its sound');
      assert.equal(await panel.page.locator('[data-control="revealOutput"]').getAttribute('disabled'), null);
      assert.notEqual(await panel.page.locator('[data-control="cancel"]').getAttribute('disabled'), null);
      await panel.setTheme('dark');
      await settle(panel);
      await panel.page.screenshot({ path: join(ARTIFACTS, 'monitor-done-dark.png'), fullPage: true });

      assert.deepEqual(await panel.cspViolations(), []);
      assert.deepEqual(panel.consoleErrors, []);
    } finally {
      await panel.page.close();
    }
  });

  it('says the sound before and after when the run treated it (--audio clean|stage)', async () => {
    const panel = await EmulatedPanel.open(browser, origin, 'dark');
    try {
      const done = run.find((e) => e.type === 'done');
      assert.ok(done?.type === 'done');
      const audio = {
        mode: 'stage' as const,
        before: { integratedLufs: -31.2, truePeakDb: -9.8, noiseFloorDb: -48.6, speechDb: -27.9 },
        after: { integratedLufs: -16, noiseFloorDb: -61.3, speechDb: -13.2 },
      };
      await panel.postEngineEvents(JOB, [
        ...run.filter((e) => e.type !== 'done'),
        { ...done, report: { ...done.report, audio } },
      ]);
      await settle(panel);
      assert.equal((await stats(panel)).status, 'done');
      assert.equal(
        await text(panel, '.notice.success .done-audio'),
        'Sound (stage): loudness −31.2 → −16.0 LUFS, noise floor −48.6 → −61.3 dBFS',
      );
      assert.deepEqual(await panel.cspViolations(), []);
      assert.deepEqual(panel.consoleErrors, []);
    } finally {
      await panel.page.close();
    }
  });

  it('charts VRAM against the budget on a GPU run, and shows a disk-guard interruption with its hint', async () => {
    const panel = await EmulatedPanel.open(browser, origin, 'dark');
    try {
      const t0 = Date.now() - 120_000;
      const realPreview = previews.at(-1);
      assert.ok(realPreview?.type === 'preview');
      const events: EngineEvent[] = [startEvent(t0, { executionProvider: 'cuda', tile: 384, encoder: 'hevc_nvenc' })];
      for (let i = 0; i < 120; i++) {
        const ts = t0 + i * 1000;
        events.push(
          progressEvent(ts, i * 20, { total: 2400, fps: 22 + 3 * Math.sin(i / 9), etaS: (2400 - i * 20) / 23 }),
        );
        events.push(
          sampleEvent(ts + 500, {
            gpu: gpuState((3.2 + 0.6 * Math.sin(i / 15)) * 1024 ** 3),
            rssBytes: (900 + 2 * i) * 1024 ** 2,
            jobDiskBytes: i * 1.5 * 1024 ** 2,
          }),
        );
        if (i % 30 === 29) events.push(segmentEvent(ts + 700, (i + 1) / 30 - 1, 45 * 1024 ** 2));
      }
      events.push({ ...realPreview, ts: t0 + 119_800 });
      events.push(warningEvent(t0 + 60_000, 'VRAM is close to the budget: tile reduced from 512 to 384.'));
      await panel.postEngineEvents(JOB, events);
      await panel.page.waitForFunction(
        (f) => document.querySelector('.compare')?.getAttribute('data-frame') === String(f),
        realPreview.frame,
      );
      await settle(panel);
      const s = await stats(panel);
      assert.equal(s.points.vram, 120);
      assert.ok(await panel.page.locator('.plot[data-chart="vram"]').isVisible());
      assert.ok(!(await panel.page.locator('.chart-vram .cpu-state').isVisible()));
      assert.match(await text(panel, '.chart-vram .card-figure'), /GiB \/ 6\.00 GiB$/);
      assert.match(await text(panel, '.chart-vram .card-sub'), /RTX 3060/);
      assert.equal(await panel.page.locator('.notice.warning').count(), 1);
      await panel.page.screenshot({ path: join(ARTIFACTS, 'monitor-gpu-dark.png'), fullPage: true });

      await panel.postEngineEvent(JOB, {
        ...errorEvent(t0 + 121_000, 4, 'Free disk space fell below the 2 GB reserve on /work.'),
        hint: 'Free some space, then run “huaju4k: Resume Interrupted Enhancement”.',
      });
      await settle(panel);
      // The disk guard (exit 4) stops a run resumably: Interrupted, as the Videos tree says, not Failed.
      assert.equal((await stats(panel)).status, 'interrupted');
      assert.equal(await text(panel, '.status-pill'), 'Interrupted');
      assert.match(
        await text(panel, '.notice.info[role="status"]'),
        /^Interrupted \(resumable\): .*reserve.*Resume Interrupted Enhancement/s,
      );
      await panel.setTheme('light');
      await settle(panel);
      await panel.page.waitForTimeout(100);
      await panel.page.screenshot({ path: join(ARTIFACTS, 'monitor-failed-light.png'), fullPage: true });
      assert.deepEqual(await panel.cspViolations(), []);
      assert.deepEqual(panel.consoleErrors, []);
    } finally {
      await panel.page.close();
    }
  });

  it('collapses provider fallbacks into one keyboard-reachable line; other warnings stay visible', async () => {
    const panel = await EmulatedPanel.open(browser, origin, 'light');
    try {
      const t0 = Date.now() - 5_000;
      const fallback = (ts: number, message: string): EngineEvent => ({
        type: 'warning',
        ts,
        code: 'ep-fallback',
        message,
      });
      await panel.postEngineEvents(JOB, [
        startEvent(t0, { executionProvider: 'cpu' }),
        fallback(t0 + 10, 'CUDA not used: CUDA providers not installed.'),
        fallback(t0 + 20, 'WebGPU not used: WebGPU found no GPU adapter.'),
        warningEvent(t0 + 30, 'the source is interlaced'),
      ]);
      await settle(panel);
      assert.equal(await panel.page.locator('.notice.warning').count(), 1);
      const details = panel.page.locator('details.ep-fallback');
      assert.equal(await details.count(), 1);
      assert.match(await text(panel, 'details.ep-fallback > summary'), /Running on CPU\. 2 faster execution providers/);
      assert.equal(await details.getAttribute('open'), null, 'collapsed by default');
      assert.ok(!(await panel.page.getByText('CUDA providers not installed').isVisible()));
      await panel.page.locator('details.ep-fallback > summary').focus();
      await panel.page.keyboard.press('Enter');
      await panel.page.waitForFunction(() => document.querySelector('details.ep-fallback')?.hasAttribute('open'));
      assert.ok(await panel.page.getByText('CUDA providers not installed').isVisible());
      assert.ok(await panel.page.getByText('WebGPU found no GPU adapter').isVisible());
      await panel.page.screenshot({ path: join(ARTIFACTS, 'monitor-fallbacks-light.png'), fullPage: true });
      assert.deepEqual(await panel.cspViolations(), []);
    } finally {
      await panel.page.close();
    }
  });

  it('restores after a reload from the host replay and the persisted slider', async () => {
    const panel = await EmulatedPanel.open(browser, origin, 'light');
    try {
      for (const event of run.filter((e) => e.type !== 'done')) await panel.postEngineEvent(JOB, event);
      const lastPreview = previews.at(-1);
      assert.ok(lastPreview?.type === 'preview');
      await panel.page.waitForFunction(
        (f) => document.querySelector('.compare')?.getAttribute('data-frame') === String(f),
        lastPreview.frame,
      );
      const slider = panel.page.locator('.compare-slider');
      await slider.focus();
      for (let i = 0; i < 10; i++) await panel.page.keyboard.press('ArrowLeft');
      assert.equal(await slider.inputValue(), '40');
      assert.match(
        (await panel.page.locator('.compare-img.after').getAttribute('style')) ?? '',
        /inset\(0px 0px 0px 40%\)/,
      );

      await panel.load();
      await panel.page.waitForFunction(
        (f) => document.querySelector('.compare')?.getAttribute('data-frame') === String(f),
        lastPreview.frame,
      );
      await settle(panel);
      const last = progress.at(-1);
      assert.ok(last);
      assert.equal(await text(panel, '[data-stat="frames"]'), `${last.frame} / ${last.total}`);
      assert.equal(await panel.page.locator('.compare-slider').inputValue(), '40');
      const s = await stats(panel);
      assert.equal(s.jobId, JOB);
      assert.equal(s.points.fps, progress.length);
    } finally {
      await panel.page.close();
    }
  });

  it('tells the truth at once: Cancelling… on the click; a new run shows no old times, "1 B" or placeholders', async () => {
    const panel = await EmulatedPanel.open(browser, origin, 'dark');
    try {
      await panel.postEngineEvents('job-old', run);
      await settle(panel);
      const memory = panel.page.locator('.plot[data-chart="memory"]');
      const fps = panel.page.locator('.plot[data-chart="fps"]');
      assert.match((await fps.getAttribute('data-ticks-x')) ?? '', /\d\d:\d\d:\d\d/, 'the old run has time ticks');

      // A new run starts: until its own first events, its charts say nothing (no old times, no "0 B|1 B").
      const t0 = Date.now();
      await panel.postEngineEvent(JOB, startEvent(t0, { executionProvider: 'cpu' }));
      await settle(panel);
      for (const box of [fps, memory]) {
        assert.equal(await box.getAttribute('data-points'), '0');
        assert.equal(await box.getAttribute('data-ticks-x'), '', 'no time ticks from the previous run');
        assert.equal(await box.getAttribute('data-ticks-y'), '', 'no made-up value ticks');
      }
      assert.ok(!(await panel.page.locator('.reuse-row').isVisible()));
      await panel.page.screenshot({ path: join(ARTIFACTS, 'monitor-start-dark.png'), fullPage: true });
      await panel.postEngineEvent(JOB, sampleEvent(t0 + 500, { jobDiskBytes: undefined }));
      await settle(panel);
      assert.equal(await text(panel, '.chart-disk .card-sub'), '', 'no "this job: not reported"');
      await panel.postEngineEvents(JOB, [
        sampleEvent(t0 + 1000, { rssBytes: 300 * 2 ** 20 }),
        sampleEvent(t0 + 2000, { rssBytes: 310 * 2 ** 20 }),
        progressEvent(t0 + 2000, 10, { reuseRatio: 0.42 }),
      ]);
      await settle(panel);
      assert.match((await memory.getAttribute('data-ticks-y')) ?? '', /MiB/);
      assert.match((await memory.getAttribute('data-ticks-x')) ?? '', /\d\d:\d\d:\d\d/);
      assert.equal(await text(panel, '.reuse-row dd'), '42%');
      assert.match(await text(panel, '.chart-disk .card-sub'), /^this job: /);
      const disk = panel.page.locator('.plot[data-chart="disk"]');
      assert.match((await disk.getAttribute('data-ticks-y')) ?? '', /iB/);
      assert.equal(
        await disk.getAttribute('data-ticks-y2'),
        null,
        'the job on the free space’s own scale, no axis of its own',
      );

      // Cancel: the word and the disabled button come with the click, not seconds later with the engine's exit.
      const cancel = panel.page.locator('[data-control="cancel"]');
      await cancel.click();
      await panel.page.waitForFunction(() => document.querySelector('.status-pill')?.textContent === 'Cancelling…');
      assert.notEqual(await cancel.getAttribute('disabled'), null);
      assert.deepEqual(panel.controlCalls, [`cancel ${JOB}`]);
      await panel.postEngineEvent(JOB, progressEvent(t0 + 3000, 11));
      await settle(panel);
      assert.equal(await text(panel, '.status-pill'), 'Cancelling…', 'late progress does not undo it');
      await panel.page.screenshot({ path: join(ARTIFACTS, 'monitor-cancelling-dark.png'), fullPage: true });
      await panel.postEngineEvent(JOB, errorEvent(t0 + 4000, ExitCode.cancelled, 'Cancelled at frame 11.'));
      await settle(panel);
      assert.equal(await text(panel, '.status-pill'), 'Cancelled');
      assert.deepEqual(panel.consoleErrors, []);
    } finally {
      await panel.page.close();
    }
  });

  it('job controls are keyboard reachable and use request ids and replies', async () => {
    const panel = await EmulatedPanel.open(browser, origin, 'dark');
    try {
      for (const event of run.slice(0, 4)) await panel.postEngineEvent(JOB, event);
      await settle(panel);
      let reached = false;
      for (let i = 0; i < 30 && !reached; i++) {
        await panel.page.keyboard.press('Tab');
        reached = await panel.page.evaluate(() => document.activeElement?.getAttribute('data-control') === 'cancel');
      }
      assert.ok(reached, 'Tab never reached the Cancel button');
      panel.controlError = 'the engine already exited';
      await panel.page.keyboard.press('Enter');
      await panel.page.waitForFunction(() => document.querySelector('.control-note')?.textContent !== '');
      assert.deepEqual(panel.controlCalls, [`cancel ${JOB}`]);
      const request = panel.fromWebview.find((m) => (m as { type?: string }).type === 'request') as Record<
        string,
        unknown
      >;
      assert.equal(request.method, 'cancel');
      assert.equal(request.jobId, JOB);
      assert.equal(typeof request.id, 'number');
      assert.equal(await text(panel, '.control-note'), 'the engine already exited');
      await settle(panel);
      assert.equal(await text(panel, '.status-pill'), 'Running', 'a refused cancel is not "Cancelling…"');
      assert.ok(await panel.page.locator('.control-note.error').isVisible());
      // Every control has an accessible name.
      for (const c of ['cancel', 'revealOutput', 'openLog']) {
        assert.ok((await panel.page.locator(`[data-control="${c}"]`).getAttribute('aria-label'))?.length);
      }
      assert.ok(await panel.page.locator('.compare-slider').getAttribute('aria-label'));
      assert.ok(await panel.page.locator('[role="progressbar"]').getAttribute('aria-label'));
    } finally {
      await panel.page.close();
    }
  });

  it('ignores and reports unknown or malformed messages, never rendering them', async () => {
    const panel = await EmulatedPanel.open(browser, origin, 'dark');
    try {
      await panel.postEngineEvent(JOB, run[0]);
      await settle(panel);
      const before = await text(panel, '.job-title');
      await panel.send({ v, type: 'eval', code: 'document.body.remove()' });
      await panel.send({ v: v + 1, type: 'engineEvent', jobId: JOB, event: run[0] });
      await panel.send({ v, type: 'engineEvent', jobId: JOB, event: { ...run[0], type: 'start', input: 42 } });
      await panel.send({
        v,
        type: 'engineEvent',
        jobId: JOB,
        event: {
          type: 'preview',
          ts: 1,
          frame: 1,
          mime: 'text/html',
          input: 'PHNjcmlwdD4=',
          output: 'PHNjcmlwdD4=',
          width: 1,
          height: 1,
        },
      });
      await settle(panel);
      const s = await stats(panel);
      assert.equal(s.rejectedMessages, 4);
      assert.equal(await text(panel, '.job-title'), before);
      const logs = panel.logs.filter((l) => l.includes('ignored a message'));
      assert.equal(logs.length, 4, panel.logs.join('\n'));
      assert.deepEqual(await panel.cspViolations(), []);
    } finally {
      await panel.page.close();
    }
  });

  it('shows a live thumbnail of each backend broadcast, revokes old frames and ignores malformed ones', async () => {
    const panel = await EmulatedPanel.open(browser, origin, 'dark');
    try {
      // Real JPEGs: two different enhanced frames of the recorded engine run.
      const jpegs = [previews[1], previews.at(-1)].map((p) => {
        assert.ok(p?.type === 'preview' && p.mime === 'image/jpeg');
        return Buffer.from(p.output, 'base64');
      });
      const rows = [
        {
          name: 'studio-hub',
          url: 'http://127.0.0.1:8765',
          reachable: true,
          subscribers: 2,
          fps: 29.97,
          relay: 'connected',
          heartbeatAgeS: 0.8,
        },
        { name: 'render-box', url: 'http://10.0.0.12:8000', reachable: false, error: 'ECONNREFUSED' },
      ];
      await panel.setBackends(rows);
      await settle(panel);
      const thumb = (name: string) => panel.page.locator(`.backend-thumb[data-backend="${name}"]`);
      assert.equal(await thumb('studio-hub').locator('.backend-thumb-empty').textContent(), 'No frames yet');
      assert.ok(await thumb('render-box').locator('.backend-thumb-empty').isVisible());
      const thumbPixels = () =>
        panel.page.evaluate(() => {
          const img = document.querySelector<HTMLImageElement>('.backend-thumb[data-backend="studio-hub"] img');
          if (!img?.complete || img.naturalWidth === 0) return 'none';
          const c = document.createElement('canvas');
          c.width = img.naturalWidth;
          c.height = img.naturalHeight;
          const ctx = c.getContext('2d');
          if (!ctx) return 'no-2d';
          ctx.drawImage(img, 0, 0);
          const d = ctx.getImageData(0, 0, c.width, c.height).data;
          let h = 2166136261;
          for (let i = 0; i < d.length; i += 7) h = Math.imul(h ^ d[i], 16777619) >>> 0;
          return `${c.width}x${c.height}:${h.toString(16)}`;
        });
      const framesShown = (n: number) =>
        panel.page.waitForFunction(
          (k) => document.querySelector('.backend-thumb[data-backend="studio-hub"]')?.getAttribute('data-frames') === k,
          String(n),
        );

      await panel.postBackendFrame('studio-hub', jpegs[0]);
      await framesShown(1);
      const firstUrl = await thumb('studio-hub').locator('img').getAttribute('src');
      assert.match(firstUrl ?? '', /^blob:/);
      const first = await thumbPixels();
      assert.notEqual(first, 'none');
      assert.ok(!(await thumb('studio-hub').locator('.backend-thumb-empty').isVisible()));
      assert.ok(await thumb('render-box').locator('.backend-thumb-empty').isVisible(), 'the other row got a frame');

      await panel.postBackendFrame('studio-hub', jpegs[1]);
      await framesShown(2);
      const second = await thumbPixels();
      assert.notEqual(second, first, 'the thumbnail did not change with the second frame');
      const firstStillLoads = await panel.page.evaluate(
        (u) =>
          new Promise<boolean>((r) => {
            const img = new Image();
            img.onload = () => r(true);
            img.onerror = () => r(false);
            img.src = u ?? '';
          }),
        firstUrl,
      );
      assert.equal(firstStillLoads, false, 'the superseded thumbnail blob URL is still alive');
      // That probe itself logs one failed load; anything else in the console is a real error.
      await panel.page.waitForTimeout(50);
      assert.deepEqual(panel.consoleErrors.splice(0), ['Failed to load resource: net::ERR_FILE_NOT_FOUND']);
      assert.equal((await stats(panel)).backendThumbUrls, 1);

      // A rows update (new fps) re-renders the table; the thumbnail keeps its image.
      await panel.setBackends([{ ...rows[0], fps: 25 }, rows[1]]);
      await settle(panel);
      assert.equal(await panel.page.locator('.backends-table tbody tr').count(), 2);
      assert.equal(await thumbPixels(), second);

      // Malformed frames are rejected and logged; the thumbnail stays as it was.
      const good = { v, type: 'backendFrame', name: 'studio-hub', mime: 'image/jpeg', ts: 1 };
      const rejectedBefore = (await stats(panel)).rejectedMessages;
      await panel.send({ ...good, mime: 'image/svg+xml', data: jpegs[0].toString('base64') });
      await panel.send({ ...good, data: Buffer.from('<svg onload="alert(1)"/>').toString('base64') });
      await panel.send({ ...good, data: `/9j/${'A'.repeat(4 * 1024 * 1024)}` });
      await panel.send({ ...good, name: '', data: jpegs[0].toString('base64') });
      await settle(panel);
      const s = await stats(panel);
      assert.equal(s.rejectedMessages - rejectedBefore, 4);
      assert.equal(s.backendFramesShown['studio-hub'], 2);
      assert.equal(panel.logs.filter((l) => l.includes('backendFrame')).length, 4, panel.logs.join('\n'));

      await panel.page.locator('.backends').scrollIntoViewIfNeeded();
      await panel.page.locator('.backends').screenshot({ path: join(ARTIFACTS, 'monitor-backends-dark.png') });
      await panel.setTheme('light');
      await settle(panel);
      await panel.page.waitForTimeout(100);
      await panel.page.locator('.backends').screenshot({ path: join(ARTIFACTS, 'monitor-backends-light.png') });

      // Reloaded (hidden and shown again): the host replays the newest frame after init.
      await panel.load();
      await framesShown(1);
      assert.equal(await thumbPixels(), second);

      // The backend leaves the list: its thumbnail and blob URL go with it.
      await panel.setBackends([rows[1]]);
      await settle(panel);
      assert.equal(await thumb('studio-hub').count(), 0);
      assert.equal((await stats(panel)).backendThumbUrls, 0);
      assert.deepEqual(await panel.cspViolations(), []);
      assert.deepEqual(panel.consoleErrors, []);
    } finally {
      await panel.page.close();
    }
  });

  it('keeps memory bounded over a long run: rings cap the series, old blob URLs are revoked', async () => {
    const panel = await EmulatedPanel.open(browser, origin, 'dark', { width: 900, height: 900 });
    try {
      const [start] = run;
      const sample = run.find((e) => e.type === 'sample');
      const p0 = previews[0];
      const p1 = previews[previews.length - 1];
      assert.ok(sample && p0?.type === 'preview' && p1?.type === 'preview');
      await panel.postEngineEvent(JOB, start);
      const firstUrl = await (async () => {
        await panel.postEngineEvent(JOB, { ...p0, frame: 1 });
        await panel.page.waitForFunction(() => document.querySelector('.compare')?.getAttribute('data-frame') === '1');
        return panel.page.locator('.compare-img.after').getAttribute('src');
      })();
      const t0 = start.ts;
      // 700 s of a run at one progress + one sample per second, previews every 10 s: more than the ring holds.
      for (let i = 0; i < 700; i++) {
        const batch: EngineEvent[] = [
          { ...progress[i % progress.length], frame: i, total: 1000, ts: t0 + i * 1000 },
          { ...sample, ts: t0 + i * 1000 + 500 },
        ];
        if (i % 10 === 0) batch.push({ ...(i % 20 ? p0 : p1), frame: i + 2, ts: t0 + i * 1000 + 700 });
        await panel.postEngineEvents(JOB, batch);
      }
      await panel.page.waitForFunction(() => document.querySelector('.compare')?.getAttribute('data-frame') === '692');
      await settle(panel);
      const s = await stats(panel);
      assert.equal(s.points.fps, 600);
      assert.equal(s.points.memory, 600);
      assert.equal(s.liveBlobUrls, 2);
      assert.equal(await panel.page.locator('.plot[data-chart="fps"]').getAttribute('data-points'), '600');
      // The first frame's URL was revoked: loading it now fails.
      const loads = await panel.page.evaluate(
        (u) =>
          new Promise<boolean>((r) => {
            const img = new Image();
            img.onload = () => r(true);
            img.onerror = () => r(false);
            img.src = u ?? '';
          }),
        firstUrl,
      );
      assert.equal(loads, false, 'an old preview blob URL is still alive');
    } finally {
      await panel.page.close();
    }
  });
});
