// Batches in a real workbench (code-server + chromium): right-click a folder → every video in it is enhanced under
// ONE progress notification; the Jobs view lists the queue (pause, reorder, remove by its buttons) and a history
// that is still there after the window reloads. Screenshots: test-artifacts/issue21/batch-*.png, jobs-*.png.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  contextMenuItem,
  explorerRow,
  notification,
  openContainer,
  openWorkbench,
  pane,
  paneRows,
  pollUntil,
  runContextMenuItem,
  shot,
  slug,
  waitForFile,
} from './helpers.mjs';

const DIR = 'issue21';
const outputOf = (clip) => clip.replace(/\.mp4$/, '.4k.mp4');

/** Waits until a pane's rows read the same for 3 s, every video's metadata shown (folder rows aside). */
async function stableRows(page, title) {
  let last = '';
  let since = Date.now();
  await paneRows(
    page,
    title,
    (t) => {
      const now = t.join('\n');
      if (now !== last || t.some((l) => !/×|unreadable| videos? · /.test(l))) {
        last = now;
        since = Date.now();
      }
      return Date.now() - since >= 3000;
    },
    `${title} rows to settle`,
  );
}

/** Clicks a title-bar action of a pane (they show on hover). */
async function paneAction(page, title, label) {
  const header = pane(page, title).locator('.pane-header');
  await header.hover();
  await header.locator(`.action-label[aria-label="${label}"]`).click();
}

describe('batches and the Jobs view (code-server + chromium)', () => {
  let wb;
  before(async () => {
    wb = await openWorkbench({ trust: true });
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb)
      await shot(wb.page, `${DIR}/failed-${slug(this.currentTest.title)}.png`);
  });
  after(async () => wb?.close());

  it('right-click a folder → "Enhance Videos in Folder to 4K": one notification for the batch', async () => {
    const { page, config } = wb;
    await page.locator('.activitybar .action-item a[aria-label^="huaju4k 4K"]').first().waitFor({ timeout: 60_000 });
    const folder = explorerRow(page, 'batch');
    await folder.waitFor({ timeout: 60_000 });
    await folder.click({ button: 'right' });
    const item = contextMenuItem(page, 'Enhance Videos in Folder to 4K');
    await item.waitFor({ timeout: 20_000 });
    assert.equal(
      await contextMenuItem(page, 'Enhance to 4K').count(),
      0,
      'a folder offers the batch, not the file item',
    );
    await shot(page, `${DIR}/batch-folder-context-menu.png`);
    await item.click();
    // While the batch runs, the notification center holds one progress notification for it, not one per video.
    const running = await notification(page, 'of 3 finished', 120_000);
    assert.match(running, /huaju4k: enhancing/);
    const enhancing = page.locator('.notification-list-item', { hasText: 'huaju4k: enhancing' });
    assert.equal(await enhancing.count(), 1, 'one notification for the whole batch');
    await shot(page, `${DIR}/batch-one-notification.png`);
    for (const clip of config.batchClips) await waitForFile(outputOf(clip), 180_000);
    assert.match(await notification(page, 'videos finished'), /huaju4k: 3 videos finished: 3 enhanced/);
    assert.equal(await page.locator('.notification-list-item', { hasText: /enhanced [abc]\.mp4 →/ }).count(), 0);
    assert.ok(!existsSync(outputOf(outputOf(`${config.batchDir}/done.mp4`))), 'an output is not enhanced again');
    await page.keyboard.press('Escape');
  });

  it('the Jobs view: pause, multi-select in Videos → Enhance, reorder and remove with the row buttons', async () => {
    const { page } = wb;
    await openContainer(page);
    await paneAction(page, 'Jobs', 'Pause Queue');
    // Two videos selected in the Videos view (click, ctrl+click), Enhance from the context menu: both queued.
    const videoRow = (name) =>
      pane(page, 'Videos')
        .locator('.monaco-list-row')
        .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${name.replace('.', '\\.')}$`) }) });
    // A selection made while the tree is being refreshed (metadata landing, checkpoints listed after the batch)
    // reaches the command as unresolved handles: wait until the rows have stopped changing.
    await stableRows(page, 'Videos');
    await videoRow('clip.mp4').click();
    // The click opens the video; the tree settles before the second one joins the selection.
    await page.locator('.tab', { hasText: 'clip.mp4' }).first().waitFor();
    await stableRows(page, 'Videos');
    await videoRow('longclip.mp4').click({ modifiers: ['Control'] });
    await pollUntil(async () => (await pane(page, 'Videos').locator('.monaco-list-row.selected').count()) === 2, {
      what: 'two rows selected',
    });
    await runContextMenuItem(page, videoRow('longclip.mp4'), 'Enhance to 4K');
    const queued = await paneRows(
      page,
      'Jobs',
      // Both rows: while the tree redraws, a reused row can still carry another label (CI read "History #1 …").
      (t) =>
        t.some((l) => /^longclip\.mp4 #2 in line \(paused\)/.test(l)) &&
        t.some((l) => /^clip\.mp4 #1 in line \(paused\)/.test(l)),
      'two queued',
    );
    assert.ok(
      queued.some((l) => /^clip\.mp4 #1 in line \(paused\)/.test(l)),
      queued.join('\n'),
    );
    await shot(page, `${DIR}/jobs-queue-paused.png`);
    // The row's inline "Move Up in Queue" puts longclip first.
    const jobRow = (name) =>
      pane(page, 'Jobs')
        .locator('.monaco-list-row')
        .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${name.replace('.', '\\.')}$`) }) })
        .filter({ hasText: 'in line' });
    await jobRow('longclip.mp4').hover();
    await jobRow('longclip.mp4').locator('.action-label[aria-label="Move Up in Queue"]').click();
    await paneRows(page, 'Jobs', (t) => t.some((l) => /^longclip\.mp4 #1 in line/.test(l)), 'moved up');
    // A click that lands while the view redraws (the other row just left it) is dropped by the workbench: click
    // again until the row is gone, as a person would.
    for (const name of ['clip.mp4', 'longclip.mp4']) {
      await pollUntil(
        async () => {
          if ((await jobRow(name).count()) === 0) return true;
          await jobRow(name).hover();
          await jobRow(name).locator('.action-label[aria-label="Remove from Queue"]').click({ timeout: 2000 });
          return undefined;
        },
        { every: 1500, what: `${name} removed` },
      );
    }
    await paneRows(page, 'Jobs', (t) => !t.some((l) => / in line/.test(l)), 'queue empty');
    // Taken out of line before they ran: nothing to resume either.
    await paneRows(page, 'Videos', (t) => t.some((l) => /^clip\.mp4 not enhanced/.test(l)), 'clip not enhanced again');
    await paneAction(page, 'Jobs', 'Resume Queue');
  });

  it('the history is still there after the window reloads', async () => {
    const { page } = wb;
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await openContainer(page);
    const rows = await paneRows(page, 'Jobs', (t) => t.filter((l) => / done in /.test(l)).length === 3, 'history');
    assert.deepEqual(
      rows.filter((l) => / done in /.test(l)).map((l) => l.split(' ')[0]),
      ['c.mp4', 'b.mp4', 'a.mp4'],
      'newest first',
    );
    // Removed from the queue before they ran: in the history as cancelled, to be retried from there.
    assert.ok(
      rows.some((l) => /^clip\.mp4 cancelled/.test(l)),
      rows.join('\n'),
    );
    assert.ok(
      rows.some((l) => /^longclip\.mp4 cancelled/.test(l)),
      rows.join('\n'),
    );
    await shot(page, `${DIR}/jobs-history-after-reload.png`);
  });
});
