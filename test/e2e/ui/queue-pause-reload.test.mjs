// The queue's Pause survives a window reload (code-server + chromium, real engine): pause the queue from the
// palette, reload the page (the extension host really restarts), and the Jobs view still says "paused"; a video
// enhanced then waits "#1 in line (paused)" instead of starting, and runs once the queue is resumed.
// Screenshots: test-artifacts/queue-pause-reload/*.png.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  explorerRow,
  openContainer,
  openWorkbench,
  paneRows,
  runContextMenuItem,
  runFromPalette,
  shot,
} from './helpers.mjs';

const DIR = 'queue-pause-reload';

/** The Jobs view's Queue group row ("Queue empty · paused", "Queue 1 · paused"). */
const queueGroup = (rows) => rows.find((l) => /^Queue /.test(l)) ?? '';

describe('the queue paused, then a window reload (code-server + chromium, real engine)', () => {
  let wb;

  before(async () => {
    wb = await openWorkbench({ trust: true });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) await shot(wb.page, `${DIR}/failed.png`).catch(() => {});
  });

  after(async () => {
    await wb?.close();
  });

  it('the queue is still paused after the reload: a new job waits until Resume Queue', async function () {
    this.timeout(600_000);
    const { page, config } = wb;
    await openContainer(page);
    await paneRows(page, 'Jobs', (t) => /^Queue empty$/.test(queueGroup(t)), 'Jobs: an empty queue, not paused');
    await runFromPalette(page, 'huaju4k: Pause Queue');
    await paneRows(page, 'Jobs', (t) => /^Queue empty · paused$/.test(queueGroup(t)), 'Jobs: the queue paused');
    await shot(page, `${DIR}/paused.png`);

    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await openContainer(page);
    await paneRows(page, 'Jobs', (t) => /^Queue empty · paused$/.test(queueGroup(t)), 'Jobs: still paused');

    await runFromPalette(page, 'View: Show Explorer');
    const row = explorerRow(page, 'clip.mp4');
    await row.waitFor({ timeout: 60_000 });
    await runContextMenuItem(page, row, 'Enhance to 4K');
    await openContainer(page);
    const waiting = await paneRows(
      page,
      'Jobs',
      (t) => t.some((l) => /^clip\.mp4 #1 in line \(paused\)/.test(l)),
      'Jobs: clip.mp4 waiting behind the pause',
    );
    await shot(page, `${DIR}/after-reload.png`);
    const output = config.clip.replace(/\.mp4$/, '.4k.mp4');
    assert.ok(!existsSync(`${output}.huaju4k`), `no engine started for ${output}: ${waiting.join(' | ')}`);

    await runFromPalette(page, 'huaju4k: Resume Queue');
    await paneRows(page, 'Jobs', (t) => t.some((l) => /^clip\.mp4 done in /.test(l)), 'Jobs: clip.mp4 done', 300_000);
    assert.ok(existsSync(output), `${output} written once the queue was resumed`);
  });
});
