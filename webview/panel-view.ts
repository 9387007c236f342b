/**
 * The monitor's DOM: built once, then updated in place from the view state. Only text and attributes change on
 * updates; charts redraw only when their series moved.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { JobControlMethod, MonitorBackendRow } from '../src/protocol/webview-messages';
import { BackendThumbnails } from './backend-thumbs';
import { type ChartSpec, TimeChart } from './charts';
import { h, setAttr, setText } from './dom';
import { baseName, formatBytes, formatDuration, formatFps, formatMs, formatPercent } from './format';
import { PreviewPane } from './preview';
import type { MonitorSeries, ViewState } from './view-model';

const STATUS_TEXT: Record<ViewState['status'], string> = {
  idle: 'Waiting',
  running: 'Running',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

const STAGES = [
  { key: 'decode', label: 'Decode' },
  { key: 'infer', label: 'Upscale' },
  { key: 'temporal', label: 'Temporal' },
  { key: 'encode', label: 'Encode' },
] as const;

interface ChartCard {
  root: HTMLElement;
  value: HTMLElement;
  sub: HTMLElement;
  plotBox: HTMLElement;
  chart: TimeChart;
}

function stat(label: string): { root: HTMLElement; value: HTMLElement } {
  const value = h('span', { class: 'stat-value' }, '—');
  return { root: h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), value), value };
}

function fact(label: string): { root: HTMLElement; value: HTMLElement } {
  const value = h('dd', {}, '—');
  return { root: h('div', { class: 'fact' }, h('dt', {}, label), value), value };
}

export interface PanelViewOptions {
  split: number;
  onSplitChange: (split: number) => void;
  onControl: (method: JobControlMethod) => void;
}

export class PanelView {
  readonly root: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly job: HTMLElement;
  private readonly title: HTMLElement;
  private readonly statusPill: HTMLElement;
  private readonly facts: Record<'model' | 'provider' | 'tile' | 'size' | 'encoder', HTMLElement>;
  private readonly buttons: Record<JobControlMethod, HTMLElement>;
  private readonly controlNote: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly barFill: HTMLElement;
  private readonly stats: Record<'percent' | 'frames' | 'fps' | 'eta' | 'elapsed', HTMLElement>;
  readonly preview: PreviewPane;
  private readonly stageRows: Record<string, { bar: HTMLElement; value: HTMLElement; row: HTMLElement }> = {};
  private readonly stageTotal: HTMLElement;
  private readonly reuse: HTMLElement;
  private readonly segments: HTMLElement;
  private readonly buffer: HTMLElement;
  private readonly sourceInfo: HTMLElement;
  private readonly outputInfo: HTMLElement;
  private readonly charts: Record<'fps' | 'memory' | 'vram' | 'disk', ChartCard>;
  private readonly cpuState: HTMLElement;
  private readonly cpuReason: HTMLElement;
  private readonly backendsBody: HTMLElement;
  private readonly backendsTable: HTMLElement;
  private readonly backendsEmpty: HTMLElement;
  /** Live thumbnails of each backend's broadcast (fed directly by `backendFrame` messages). */
  readonly thumbs = new BackendThumbnails();
  private readonly notices: HTMLElement;
  private readonly resizeObserver: ResizeObserver;

  constructor(private readonly options: PanelViewOptions) {
    this.empty = h(
      'section',
      { class: 'empty-state', 'aria-label': 'No enhancement running' },
      h('h1', {}, 'No enhancement running'),
      h(
        'p',
        {},
        'Right-click a video in the Explorer and choose “Enhance to 4K”, or run “huaju4k: Enhance to 4K” from the Command Palette. Progress, a live before/after preview and resource charts appear here.',
      ),
    );

    // Header
    this.title = h('h1', { class: 'job-title' }, '');
    this.statusPill = h('span', { class: 'status-pill', role: 'status', 'aria-live': 'polite' }, '');
    const model = fact('Model');
    const provider = fact('Provider');
    const tile = fact('Tile');
    const size = fact('Resolution');
    const encoder = fact('Encoder');
    this.facts = {
      model: model.value,
      provider: provider.value,
      tile: tile.value,
      size: size.value,
      encoder: encoder.value,
    };
    const button = (method: JobControlMethod, label: string, hint: string, secondary: boolean): HTMLElement => {
      const b = h('vscode-button', { 'aria-label': hint, title: hint, secondary, 'data-control': method }, label);
      b.addEventListener('click', () => {
        if (!b.hasAttribute('disabled')) this.options.onControl(method);
      });
      return b;
    };
    this.buttons = {
      cancel: button('cancel', 'Cancel', 'Cancel this enhancement (it can be resumed later)', false),
      revealOutput: button('revealOutput', 'Reveal output', 'Reveal the output file in the Explorer', true),
      openLog: button('openLog', 'Open log', 'Open the engine log for this job', true),
    };
    this.controlNote = h('span', { class: 'control-note', role: 'status', 'aria-live': 'polite' }, '');
    const header = h(
      'header',
      { class: 'job-header' },
      h('div', { class: 'title-row' }, this.title, this.statusPill),
      h('dl', { class: 'facts' }, model.root, provider.root, tile.root, size.root, encoder.root),
      h(
        'div',
        { class: 'controls', role: 'group', 'aria-label': 'Job controls' },
        this.buttons.cancel,
        this.buttons.revealOutput,
        this.buttons.openLog,
        this.controlNote,
      ),
    );

    // Progress
    this.barFill = h('div', { class: 'bar-fill' });
    this.bar = h(
      'div',
      {
        class: 'bar',
        role: 'progressbar',
        'aria-label': 'Enhancement progress',
        'aria-valuemin': '0',
        'aria-valuemax': '100',
      },
      this.barFill,
    );
    const sPercent = stat('Done');
    const sFrames = stat('Frames');
    const sFps = stat('Speed');
    const sEta = stat('Remaining');
    const sElapsed = stat('Elapsed');
    this.stats = {
      percent: sPercent.value,
      frames: sFrames.value,
      fps: sFps.value,
      eta: sEta.value,
      elapsed: sElapsed.value,
    };
    for (const [k, el] of Object.entries(this.stats)) el.dataset.stat = k;
    const progress = h(
      'section',
      { class: 'progress', 'aria-label': 'Progress' },
      this.bar,
      h('div', { class: 'stats' }, sPercent.root, sFrames.root, sFps.root, sEta.root, sElapsed.root),
    );

    // Preview + stages
    this.preview = new PreviewPane(options.split, options.onSplitChange);
    const stageList = h('div', { class: 'stage-list' });
    for (const s of STAGES) {
      const bar = h('div', { class: `stage-bar stage-${s.key}` });
      const value = h('span', { class: 'stage-value' }, '—');
      const row = h(
        'div',
        { class: 'stage-row' },
        h('span', { class: 'stage-label' }, s.label),
        h('div', { class: 'stage-track' }, bar),
        value,
      );
      this.stageRows[s.key] = { bar, value, row };
      stageList.append(row);
    }
    this.stageTotal = h('span', { class: 'card-figure' }, '—');
    this.reuse = h('span', {}, '—');
    this.segments = h('span', {}, '—');
    this.buffer = h('span', {}, '—');
    this.sourceInfo = h('span', {}, '—');
    this.outputInfo = h('span', { class: 'ellipsis' }, '—');
    const stagesCard = h(
      'section',
      { class: 'card stages', 'aria-labelledby': 'stages-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'stages-title' }, 'Time per frame'), this.stageTotal),
      stageList,
      h(
        'dl',
        { class: 'mini-facts' },
        h(
          'div',
          {},
          h('dt', { title: 'Share of tiles the temporal stage reused from the previous frame' }, 'Reuse ratio'),
          h('dd', {}, this.reuse),
        ),
        h('div', {}, h('dt', {}, 'Segments written'), h('dd', {}, this.segments)),
        h('div', {}, h('dt', {}, 'Frame buffer'), h('dd', {}, this.buffer)),
        h('div', {}, h('dt', {}, 'Source'), h('dd', {}, this.sourceInfo)),
        h('div', {}, h('dt', {}, 'Output'), h('dd', {}, this.outputInfo)),
      ),
    );
    const previewCard = h(
      'section',
      { class: 'card preview-card', 'aria-labelledby': 'preview-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'preview-title' }, 'Live preview')),
      this.preview.root,
    );

    // Charts
    const bytes = (v: number) => formatBytes(v);
    const chartCard = (key: string, title: string, spec: ChartSpec): ChartCard => {
      const value = h('span', { class: 'card-figure' }, '—');
      const sub = h('div', { class: 'card-sub' }, '');
      const plotBox = h('div', { class: 'plot', 'data-chart': key });
      const root = h(
        'section',
        { class: `card chart-card chart-${key}`, 'aria-labelledby': `chart-${key}-title` },
        h('div', { class: 'card-head' }, h('h2', { id: `chart-${key}-title` }, title), value),
        sub,
        plotBox,
      );
      return { root, value, sub, plotBox, chart: new TimeChart(plotBox, spec) };
    };
    this.charts = {
      fps: chartCard('fps', 'Throughput', {
        label: 'Frames per second over time',
        fromZero: true,
        format: (v) => `${formatFps(v)} fps`,
        tick: (v) => formatFps(v),
        series: [{ label: 'fps', colorVar: '--vscode-charts-blue', fallback: '#3794ff', fill: true }],
      }),
      memory: chartCard('memory', 'Memory', {
        label: 'Engine memory over time',
        fromZero: true,
        bytes: true,
        format: bytes,
        series: [
          { label: 'RSS', colorVar: '--vscode-charts-purple', fallback: '#b180d7', fill: true },
          { label: 'Frame buffer', colorVar: '--vscode-charts-yellow', fallback: '#cca700' },
        ],
      }),
      vram: chartCard('vram', 'GPU memory', {
        label: 'GPU memory used against the budget over time',
        fromZero: true,
        bytes: true,
        format: bytes,
        series: [
          { label: 'Used', colorVar: '--vscode-charts-green', fallback: '#89d185', fill: true },
          { label: 'Budget', colorVar: '--vscode-charts-red', fallback: '#f14c4c', dash: [6, 4] },
        ],
      }),
      disk: chartCard('disk', 'Disk', {
        label: 'Free disk space and the bytes this job wrote, over time',
        fromZero: true,
        bytes: true,
        format: bytes,
        format2: bytes,
        series: [
          { label: 'Free', colorVar: '--vscode-charts-green', fallback: '#89d185' },
          { label: 'This job', colorVar: '--vscode-charts-blue', fallback: '#3794ff', scale: 'y2', fill: true },
        ],
      }),
    };
    this.cpuReason = h('p', { class: 'cpu-reason' }, '');
    this.cpuState = h(
      'div',
      { class: 'cpu-state', hidden: true },
      h('span', { class: 'cpu-chip' }, 'CPU'),
      h('p', {}, 'No GPU in use, so there is no video memory to chart.'),
      this.cpuReason,
    );
    this.charts.vram.root.append(this.cpuState);
    const chartsGrid = h(
      'div',
      { class: 'charts' },
      this.charts.fps.root,
      this.charts.memory.root,
      this.charts.vram.root,
      this.charts.disk.root,
    );

    // Backends
    this.backendsBody = h('tbody', {});
    this.backendsTable = h(
      'table',
      { class: 'backends-table', hidden: true },
      h('caption', { class: 'visually-hidden' }, 'Stream hubs and their status'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Backend', 'Broadcast', 'State', 'Subscribers', 'fps', 'Relay', 'Heartbeat'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      this.backendsBody,
    );
    this.backendsEmpty = h(
      'div',
      { class: 'backends-empty' },
      h('strong', {}, 'No backends connected.'),
      ' Stream hubs listed in the huaju4k.backends setting appear here with a live thumbnail of their broadcast, ' +
        'subscribers, fps, relay and heartbeat.',
    );
    const backends = h(
      'section',
      { class: 'card backends', 'aria-labelledby': 'backends-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'backends-title' }, 'Backends')),
      this.backendsEmpty,
      this.backendsTable,
    );

    this.notices = h('div', { class: 'notices' });
    this.job = h(
      'div',
      { class: 'job', hidden: true },
      header,
      progress,
      this.notices,
      h('div', { class: 'media-row' }, previewCard, stagesCard),
      chartsGrid,
    );
    this.root = h('main', { class: 'monitor', 'aria-label': 'huaju4k monitor' }, this.empty, this.job, backends);

    this.resizeObserver = new ResizeObserver(() => this.resizeCharts());
    for (const c of Object.values(this.charts)) this.resizeObserver.observe(c.plotBox);
  }

  private resizeCharts(): void {
    for (const c of Object.values(this.charts)) {
      if (!c.plotBox.hidden) c.chart.resize(c.plotBox.clientWidth);
    }
  }

  retheme(): void {
    for (const c of Object.values(this.charts)) c.chart.retheme();
  }

  setControlNote(text: string, isError: boolean): void {
    setText(this.controlNote, text);
    this.controlNote.classList.toggle('error', isError);
  }

  render(state: ViewState, series: MonitorSeries, seriesChanged: boolean): void {
    const hasJob = state.header !== null || state.progress !== null;
    this.empty.hidden = hasJob;
    this.job.hidden = !hasJob;
    document.body.dataset.status = state.status;
    if (hasJob) {
      this.renderHeader(state);
      this.renderProgress(state);
      this.renderStages(state);
      this.renderNotices(state);
      this.renderChartFigures(state);
      this.preview.show(state.preview);
      if (seriesChanged) this.renderCharts(series);
    } else {
      this.preview.show(null);
    }
    this.renderBackends(state.backends);
  }

  private renderHeader(state: ViewState): void {
    const hd = state.header;
    setText(this.title, hd ? `${baseName(hd.input)} → ${baseName(hd.output)}` : 'Enhancement');
    setAttr(this.title, 'title', hd ? `${hd.input}\n→ ${hd.output}` : null);
    setText(this.statusPill, STATUS_TEXT[state.status]);
    this.statusPill.dataset.state = state.status;
    setText(this.facts.model, hd?.model ?? '—');
    setText(this.facts.provider, hd ? `${hd.executionProvider} · ${hd.precision}` : '—');
    setText(this.facts.tile, hd ? (hd.tile > 0 ? `${hd.tile} px` : 'whole frame') : '—');
    setText(
      this.facts.size,
      hd ? `${hd.source.width}×${hd.source.height} → ${hd.target.width}×${hd.target.height}` : '—',
    );
    setText(this.facts.encoder, hd?.encoder ?? '—');
    const enable = (b: HTMLElement, on: boolean) => {
      if (on) b.removeAttribute('disabled');
      else b.setAttribute('disabled', '');
    };
    enable(this.buttons.cancel, state.status === 'running');
    enable(this.buttons.revealOutput, state.status === 'done');
    // The primary (filled) button is the next useful action: Cancel while running, Reveal output when done.
    const primary =
      state.status === 'done' ? this.buttons.revealOutput : state.status === 'running' ? this.buttons.cancel : null;
    for (const b of [this.buttons.cancel, this.buttons.revealOutput]) {
      if (b === primary) b.removeAttribute('secondary');
      else b.setAttribute('secondary', '');
    }
    enable(this.buttons.openLog, state.jobId !== null);
  }

  private renderProgress(state: ViewState): void {
    const p = state.progress;
    const fraction = p?.fraction ?? 0;
    this.barFill.style.width = `${(fraction * 100).toFixed(2)}%`;
    this.bar.dataset.state = state.status;
    setAttr(this.bar, 'aria-valuenow', (fraction * 100).toFixed(0));
    setAttr(this.bar, 'aria-valuetext', p ? `${formatPercent(fraction)}, frame ${p.frame} of ${p.total}` : 'starting');
    setText(this.stats.percent, p ? formatPercent(fraction, fraction < 0.1 && fraction > 0 ? 1 : 0) : '—');
    const total = p?.total ?? state.header?.totalFrames;
    setText(this.stats.frames, p ? `${p.frame} / ${total ?? '?'}` : total ? `0 / ${total}` : '—');
    setText(this.stats.fps, p ? `${formatFps(p.fps)} fps` : '—');
    setText(
      this.stats.eta,
      state.status === 'done' ? 'done' : state.status === 'running' && p ? formatDuration(p.etaS) : '—',
    );
    const elapsed = state.done
      ? state.done.seconds
      : p && state.header
        ? (p.ts - state.header.startedTs) / 1000
        : undefined;
    setText(this.stats.elapsed, formatDuration(elapsed));
  }

  private renderStages(state: ViewState): void {
    const ms = state.progress?.stageMs;
    const values = STAGES.map((s) => (ms ? ms[s.key] : undefined));
    const total = values.reduce<number>((a, v) => a + (v ?? 0), 0);
    STAGES.forEach((s, i) => {
      const row = this.stageRows[s.key];
      const v = values[i];
      row.bar.style.width = total > 0 && v !== undefined ? `${((v / total) * 100).toFixed(1)}%` : '0%';
      setText(row.value, v === undefined ? (s.key === 'temporal' && ms ? 'off' : '—') : formatMs(v));
      row.row.classList.toggle('off', ms !== undefined && v === undefined);
    });
    setText(this.stageTotal, total > 0 ? `${formatMs(total)}` : '—');
    const reuse = state.progress?.reuseRatio;
    setText(this.reuse, reuse === undefined ? 'not reported' : formatPercent(reuse));
    setText(
      this.segments,
      state.segments.count > 0 ? `${state.segments.count} (${formatBytes(state.segments.bytes)})` : 'none yet',
    );
    const hd = state.header;
    setText(
      this.sourceInfo,
      hd ? `${formatDuration(hd.source.durationS)} at ${formatFps(hd.source.fps)} fps, ${hd.totalFrames} frames` : '—',
    );
    setText(this.outputInfo, hd ? baseName(hd.output) : '—');
    setAttr(this.outputInfo, 'title', hd ? hd.output : null);
    const r = state.resources;
    setText(this.buffer, r ? `${formatBytes(r.frameBufferBytes)} of ${formatBytes(r.frameBufferBudgetBytes)}` : '—');
  }

  private renderNotices(state: ViewState): void {
    const items: HTMLElement[] = [];
    if (state.error) {
      const e = state.error;
      const cancelled = state.status === 'cancelled';
      const resumable = cancelled || state.status === 'interrupted';
      items.push(
        h(
          'div',
          { class: `notice ${resumable ? 'info' : 'error'}`, role: resumable ? 'status' : 'alert' },
          h('strong', {}, cancelled ? 'Cancelled. ' : resumable ? 'Interrupted (resumable): ' : 'Failed: '),
          e.message,
          e.hint ? h('div', { class: 'notice-hint' }, e.hint) : null,
        ),
      );
    }
    if (state.done) {
      const d = state.done;
      items.push(
        h(
          'div',
          { class: 'notice success', role: 'status' },
          h('strong', {}, 'Done. '),
          `${d.frames} frames in ${formatDuration(d.seconds)} (${formatFps(d.avgFps)} fps average), ${formatBytes(d.outputBytes)} written to ${baseName(d.output)}.`,
        ),
      );
    }
    // Provider fallbacks (`--ep auto` passing over CUDA, WebGPU…) are expected on a machine without a GPU: one
    // collapsed line says where the run is, the reasons and fixes stay one click (or Enter) away.
    const fallbacks = state.warnings.filter((w) => w.code === 'ep-fallback');
    for (const w of state.warnings) {
      if (w.code !== 'ep-fallback') {
        items.push(h('div', { class: 'notice warning' }, h('strong', {}, 'Warning: '), w.message));
      }
    }
    if (fallbacks.length > 0) {
      const provider = (state.header?.executionProvider ?? 'cpu').toUpperCase();
      const n = fallbacks.length;
      items.push(
        h(
          'details',
          { class: 'notice info ep-fallback' },
          h(
            'summary',
            {},
            h('strong', {}, `Running on ${provider}. `),
            `${n} faster execution provider${n === 1 ? ' is' : 's are'} not available here — why and how to enable`,
          ),
          ...fallbacks.map((w) => h('div', { class: 'notice-hint' }, w.message)),
        ),
      );
    }
    const key = JSON.stringify([state.error, state.done, state.warnings.map((w) => w.ts + w.code)]);
    if (this.notices.dataset.key !== key) {
      this.notices.dataset.key = key;
      this.notices.replaceChildren(...items);
    }
  }

  private renderChartFigures(state: ViewState): void {
    const p = state.progress;
    const r = state.resources;
    setText(this.charts.fps.value, p ? `${formatFps(p.fps)} fps` : '—');
    setText(
      this.charts.fps.sub,
      state.done
        ? `average ${formatFps(state.done.avgFps)} fps`
        : p
          ? `source ${formatFps(state.header?.source.fps)} fps`
          : '',
    );
    setText(this.charts.memory.value, r ? formatBytes(r.rssBytes) : '—');
    setText(
      this.charts.memory.sub,
      r ? `resident set · frame buffer ${formatBytes(r.frameBufferBytes)}` : 'waiting for the first sample',
    );
    setText(this.charts.disk.value, r ? `${formatBytes(r.freeDiskBytes)} free` : '—');
    setText(
      this.charts.disk.sub,
      r
        ? `this job: ${r.jobDiskBytes === undefined ? 'not reported' : formatBytes(r.jobDiskBytes)}`
        : 'waiting for the first sample',
    );
    const g = state.gpu;
    const vram = this.charts.vram;
    const cpu = g.mode === 'cpu';
    this.cpuState.hidden = !cpu;
    vram.plotBox.hidden = cpu;
    vram.root.classList.toggle('is-cpu', cpu);
    if (g.mode === 'gpu') {
      setText(vram.value, `${formatBytes(g.usedBytes)} / ${formatBytes(g.budgetBytes)}`);
      setText(vram.sub, `${g.name} · ${formatBytes(g.totalBytes)} on the card`);
    } else if (cpu) {
      setText(vram.value, 'CPU');
      setText(this.cpuReason, g.reason);
      setText(vram.sub, '');
    } else {
      setText(vram.value, '—');
      setText(vram.sub, 'waiting for the first sample');
    }
  }

  private renderCharts(series: MonitorSeries): void {
    this.charts.fps.chart.setData(series.throughput.data());
    this.charts.memory.chart.setData(series.memory.data());
    this.charts.vram.chart.setData(series.vram.data());
    this.charts.disk.chart.setData(series.disk.data());
    // A chart built while hidden has no width; size it now that it is visible.
    requestAnimationFrame(() => this.resizeCharts());
  }

  private renderBackends(rows: MonitorBackendRow[] | null): void {
    const has = rows !== null && rows.length > 0;
    this.backendsEmpty.hidden = has;
    this.backendsTable.hidden = !has;
    if (rows !== null) this.thumbs.retain(rows.map((r) => r.name));
    if (!has) return;
    const key = JSON.stringify(rows);
    if (this.backendsBody.dataset.key === key) return;
    this.backendsBody.dataset.key = key;
    this.backendsBody.replaceChildren(
      ...rows.map((r) =>
        h(
          'tr',
          {},
          h(
            'th',
            { scope: 'row', title: r.url },
            h('span', { class: 'backend-name' }, r.name),
            h('span', { class: 'backend-url' }, r.url),
          ),
          h('td', { class: 'backend-thumb-cell' }, this.thumbs.element(r.name)),
          h(
            'td',
            { title: r.error ?? '' },
            h('span', { class: `dot ${r.reachable ? 'ok' : 'bad'}`, 'aria-hidden': 'true' }),
            r.reachable ? 'reachable' : `unreachable${r.error ? ` — ${r.error}` : ''}`,
          ),
          h('td', { class: 'num' }, r.subscribers === undefined ? '—' : String(r.subscribers)),
          h('td', { class: 'num' }, formatFps(r.fps)),
          h('td', {}, r.relay ?? '—'),
          h('td', { class: 'num' }, r.heartbeatAgeS === undefined ? '—' : `${r.heartbeatAgeS.toFixed(1)} s ago`),
        ),
      ),
    );
  }
}
