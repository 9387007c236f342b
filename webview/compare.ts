// The compare view (before/after of a finished output): the monitor's PreviewPane (stacked frames + wipe slider)
// fed with frames the host extracts at the scrubbed time, a time scrubber, and "Open in external player".
import {
  type CompareFrames,
  type CompareInit,
  type CompareWebviewMessage,
  parseCompareHostMessage,
} from '../src/protocol/compare-messages';
import { formatDuration } from '../src/protocol/format';
import { h, setText } from './dom';
import type { VsCodeWebviewApi } from './host-api';
import { PreviewPane } from './preview';

/** Scrubbing asks for frames at most this often; the newest position always wins. */
const SEEK_DEBOUNCE_MS = 120;

export function mountCompare(api: VsCodeWebviewApi): void {
  const send = (m: CompareWebviewMessage) => api.postMessage(m);
  const pane = new PreviewPane(50, () => undefined);
  const title = h('h1', { class: 'compare-title' }, 'Compare');
  const scrub = h('input', {
    type: 'range',
    class: 'compare-scrub',
    min: '0',
    max: '0',
    step: '0.04',
    value: '0',
    'aria-label': 'Time in the video: both frames follow it',
  });
  const time = h('span', { class: 'compare-time', 'aria-live': 'polite' }, '');
  const note = h('div', { class: 'control-note' }, '');
  const open = h('vscode-button', { secondary: true, 'data-control': 'openExternal' }, 'Open in external player');
  open.addEventListener('click', () => send({ type: 'compareOpenExternal' }));
  const bar = h('div', { class: 'controls compare-bar' }, scrub, time, open);
  document.body.append(h('main', { class: 'compare-page' }, title, pane.root, bar, note));

  let init: CompareInit | undefined;
  let seq = 0;
  let shown = -1;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const seek = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => send({ type: 'compareSeek', seq: ++seq, timeS: Number(scrub.value) }), SEEK_DEBOUNCE_MS);
  };
  scrub.addEventListener('input', () => {
    setText(time, formatDuration(Number(scrub.value)));
    seek();
  });
  const showFrames = (f: CompareFrames) => {
    if (f.seq < shown) return;
    shown = f.seq;
    const frame = Math.round(f.timeS * (init?.fps ?? 0));
    pane.show({ frame, mime: f.mime, input: f.source, output: f.output, width: f.width, height: f.height });
    document.body.dataset.shownTime = f.timeS.toFixed(2);
    setText(time, `${formatDuration(f.timeS)} · frame ${frame}`);
    setText(note, '');
  };
  window.addEventListener('message', (e: MessageEvent) => {
    const m = parseCompareHostMessage(e.data);
    if (m?.type === 'compareInit') {
      init = m;
      setText(title, `${m.source} → ${m.output} (${m.width}×${m.height})`);
      scrub.max = String(Math.max(0, m.durationS - 1 / Math.max(1, m.fps)));
      scrub.step = String(1 / Math.max(1, m.fps));
      send({ type: 'compareSeek', seq: ++seq, timeS: 0 });
    } else if (m?.type === 'compareFrames') showFrames(m);
    else if (m?.type === 'compareError') setText(note, m.message);
  });
  send({ type: 'compareReady' });
}
