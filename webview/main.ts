// Monitor webview entry (browser bundle, loaded by the panel host with a nonce). Wires the host client, the store
// and the view; everything else lives in the modules it imports.
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { type BackendFrameMessage, WEBVIEW_PROTOCOL_VERSION } from '../src/protocol/webview-messages';
import { mountCompare } from './compare';
import { HostClient, type PersistedState, readPersistedState, type VsCodeWebviewApi } from './host-api';
import { PanelView } from './panel-view';
import { MonitorStore } from './store';
import { cancelRefused, displayStatus, requestCancel } from './view-model';

const api = acquireVsCodeApi();
// One bundle, two pages: the host's HTML says which (the monitor, or the compare view of a finished output).
if (document.body.dataset.page === 'compare') mountCompare(api);
else mountMonitor(api);

function mountMonitor(api: VsCodeWebviewApi): void {
  let persisted: PersistedState = readPersistedState(api);
  const persist = (patch: Partial<PersistedState>) => {
    persisted = { ...persisted, ...patch, v: WEBVIEW_PROTOCOL_VERSION };
    api.setState(persisted);
  };

  const store = new MonitorStore();
  // Backend frames go straight to their thumbnails: image data never enters the view state.
  let onBackendFrame: (m: BackendFrameMessage) => void = () => undefined;
  const client = new HostClient(api, (m) => (m.type === 'backendFrame' ? onBackendFrame(m) : store.dispatch(m)));

  const view = new PanelView({
    split: persisted.split,
    onSplitChange: (split) => persist({ split }),
    onControl: (method) => {
      const jobId = store.state.jobId;
      if (!jobId) return;
      view.setControlNote('', false);
      if (method === 'cancel') store.update(requestCancel);
      void client.request(method, jobId).then((reply) => {
        if (reply.ok) return;
        view.setControlNote(reply.error ?? 'the request failed', true);
        if (method === 'cancel') store.update(cancelRefused);
      });
    },
  });
  document.body.append(view.root);
  onBackendFrame = (m) => view.thumbs.show(m);

  // Redraw at most once per animation frame however fast events arrive.
  let scheduled = false;
  let seriesDirty = false;
  store.subscribe(({ state, previous, seriesChanged }) => {
    seriesDirty ||= seriesChanged;
    if (state.jobId !== previous.jobId) persist({ jobId: state.jobId });
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      const dirty = seriesDirty;
      seriesDirty = false;
      view.render(store.state, store.series, dirty);
    });
  });
  view.render(store.state, store.series, true);

  // VS Code switches theme by changing the body's classes; charts draw on canvas and must pick up the new colours.
  new MutationObserver(() => view.retheme()).observe(document.body, { attributes: true, attributeFilter: ['class'] });

  // Test and diagnostics hook (read-only numbers; nothing here can be driven from outside).
  Object.defineProperty(window, '__huaju4kMonitor', {
    value: Object.freeze({
      stats: () => ({
        jobId: store.state.jobId,
        status: store.state.status,
        display: displayStatus(store.state),
        previewFrame: Number(document.querySelector('.compare')?.getAttribute('data-frame') ?? -1),
        previewsShown: view.preview.shownCount,
        liveBlobUrls: view.preview.liveUrlCount,
        backendThumbUrls: view.thumbs.liveUrlCount,
        backendFramesShown: view.thumbs.shownCounts(),
        rejectedMessages: client.rejectedCount,
        points: {
          fps: store.series.throughput.length,
          memory: store.series.memory.length,
          vram: store.series.vram.length,
          disk: store.series.disk.length,
        },
      }),
    }),
  });

  client.start(window);
  document.body.dataset.huaju4k = 'ready';
}
