/**
 * The monitor's DOM: built once (panel-sections.ts), then updated in place from the view state. Only text and
 * attributes change on updates; charts redraw only when their series moved.
 */

import { rangeSummary } from '../src/protocol/farm-ranges';
import { percentFloor } from '../src/protocol/percent';
import type { JobControlMethod, MonitorBackendRow } from '../src/protocol/webview-messages';
import { BackendThumbnails } from './backend-thumbs';
import { h, setAttr, setText } from './dom';
import { baseName, formatAudio, formatBytes, formatDuration, formatFps, formatMs, formatPercent } from './format';
import {
  type BackendsSection,
  backendsSection,
  type ChartCard,
  type ChartKey,
  type ChartsSection,
  chartsSection,
  emptySection,
  type HeaderSection,
  headerSection,
  type ProgressSection,
  progressSection,
  STAGES,
  type StagesSection,
  stagesSection,
} from './panel-sections';
import { PreviewPane } from './preview';
import { type DisplayStatus, displayStatus, type MonitorSeries, type ViewState } from './view-model';

const STATUS_TEXT: Record<DisplayStatus, string> = {
  idle: 'Waiting',
  running: 'Running',
  cancelling: 'Cancelling…',
  finalizing: 'Finalizing: joining segments, verifying',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

/** The "Remaining" figure: a time while frames are being upscaled, a word once they all are. */
function etaText(state: ViewState): string {
  const status = displayStatus(state);
  if (status === 'done') return 'done';
  if (status === 'finalizing') return 'finalizing';
  return status === 'running' && state.progress ? formatDuration(state.progress.etaS) : '—';
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
  private readonly head: HeaderSection;
  private readonly progress: ProgressSection;
  readonly preview: PreviewPane;
  private readonly stages: StagesSection;
  private readonly chartsPart: ChartsSection;
  private readonly charts: Record<ChartKey, ChartCard>;
  private readonly backends: BackendsSection;
  /** Live thumbnails of each backend's broadcast (fed directly by `backendFrame` messages). */
  readonly thumbs = new BackendThumbnails();
  private readonly notices: HTMLElement;
  private readonly resizeObserver: ResizeObserver;

  constructor(options: PanelViewOptions) {
    this.empty = emptySection();
    this.head = headerSection(options.onControl);
    this.progress = progressSection();
    this.preview = new PreviewPane(options.split, options.onSplitChange);
    this.stages = stagesSection();
    this.chartsPart = chartsSection();
    this.charts = this.chartsPart.cards;
    this.backends = backendsSection();
    const previewCard = h(
      'section',
      { class: 'card preview-card', 'aria-labelledby': 'preview-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'preview-title' }, 'Live preview')),
      this.preview.root,
    );
    this.notices = h('div', { class: 'notices' });
    this.job = h(
      'div',
      { class: 'job', hidden: true },
      this.head.root,
      this.progress.root,
      this.notices,
      h('div', { class: 'media-row' }, previewCard, this.stages.root),
      this.chartsPart.root,
    );
    this.root = h(
      'main',
      { class: 'monitor', 'aria-label': 'huaju4k monitor' },
      this.empty,
      this.job,
      this.backends.root,
    );
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
    setText(this.head.controlNote, text);
    this.head.controlNote.classList.toggle('error', isError);
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
    setText(this.head.title, hd ? `${baseName(hd.input)} → ${baseName(hd.output)}` : 'Enhancement');
    setAttr(this.head.title, 'title', hd ? `${hd.input}\n→ ${hd.output}` : null);
    const status = displayStatus(state);
    setText(this.head.statusPill, STATUS_TEXT[status]);
    this.head.statusPill.dataset.state = status;
    setText(this.head.facts.model, hd?.model ?? '—');
    setText(this.head.facts.provider, hd ? `${hd.executionProvider} · ${hd.precision}` : '—');
    setText(this.head.facts.tile, hd ? (hd.tile > 0 ? `${hd.tile} px` : 'whole frame') : '—');
    setText(
      this.head.facts.size,
      hd ? `${hd.source.width}×${hd.source.height} → ${hd.target.width}×${hd.target.height}` : '—',
    );
    setText(this.head.facts.encoder, hd?.encoder ?? '—');
    const enable = (b: HTMLElement, on: boolean) => {
      if (on) b.removeAttribute('disabled');
      else b.setAttribute('disabled', '');
    };
    // Disabled from the click on: a second click cannot cancel twice, and the pill says "Cancelling…".
    enable(this.head.buttons.cancel, state.status === 'running' && !state.cancelRequested);
    enable(this.head.buttons.revealOutput, state.status === 'done');
    // The primary (filled) button is the next useful action: Cancel while running, Reveal output when done.
    const primary =
      state.status === 'done'
        ? this.head.buttons.revealOutput
        : state.status === 'running'
          ? this.head.buttons.cancel
          : null;
    for (const b of [this.head.buttons.cancel, this.head.buttons.revealOutput]) {
      if (b === primary) b.removeAttribute('secondary');
      else b.setAttribute('secondary', '');
    }
    enable(this.head.buttons.openLog, state.jobId !== null);
  }

  private renderProgress(state: ViewState): void {
    const p = state.progress;
    const fraction = p?.fraction ?? 0;
    this.progress.barFill.style.width = `${(fraction * 100).toFixed(2)}%`;
    this.progress.bar.dataset.state = state.status;
    setAttr(this.progress.bar, 'aria-valuenow', String(percentFloor(fraction)));
    setAttr(
      this.progress.bar,
      'aria-valuetext',
      p ? `${formatPercent(fraction)}, frame ${p.frame} of ${p.total}` : 'starting',
    );
    setText(this.progress.stats.percent, p ? formatPercent(fraction, fraction < 0.1 && fraction > 0 ? 1 : 0) : '—');
    const total = p?.total ?? state.header?.totalFrames;
    setText(this.progress.stats.frames, p ? `${p.frame} / ${total ?? '?'}` : total ? `0 / ${total}` : '—');
    setText(this.progress.stats.fps, p ? `${formatFps(p.fps)} fps` : '—');
    setText(this.progress.stats.eta, etaText(state));
    const elapsed = state.done
      ? state.done.seconds
      : p && state.header
        ? (p.ts - state.header.startedTs) / 1000
        : undefined;
    setText(this.progress.stats.elapsed, formatDuration(elapsed));
  }

  private renderStages(state: ViewState): void {
    const ms = state.progress?.stageMs;
    const values = STAGES.map((s) => (ms ? ms[s.key] : undefined));
    const total = values.reduce<number>((a, v) => a + (v ?? 0), 0);
    STAGES.forEach((s, i) => {
      const row = this.stages.rows[s.key];
      const v = values[i];
      row.bar.style.width = total > 0 && v !== undefined ? `${((v / total) * 100).toFixed(1)}%` : '0%';
      setText(row.value, v === undefined ? (s.key === 'temporal' && ms ? 'off' : '—') : formatMs(v));
      row.row.classList.toggle('off', ms !== undefined && v === undefined);
    });
    setText(this.stages.total, total > 0 ? `${formatMs(total)}` : '—');
    const reuse = state.progress?.reuseRatio;
    // No "not reported": the row appears with the engine's first figure (tile reuse may be off).
    this.stages.reuseRow.hidden = reuse === undefined;
    setText(this.stages.reuse, reuse === undefined ? '—' : formatPercent(reuse));
    setText(
      this.stages.segments,
      state.segments.count > 0 ? `${state.segments.count} (${formatBytes(state.segments.bytes)})` : 'none yet',
    );
    this.stages.rangesRow.hidden = state.ranges.length === 0;
    setText(this.stages.ranges, state.ranges.length > 0 ? rangeSummary(state.ranges) : '—');
    const hd = state.header;
    setText(
      this.stages.sourceInfo,
      hd ? `${formatDuration(hd.source.durationS)} at ${formatFps(hd.source.fps)} fps, ${hd.totalFrames} frames` : '—',
    );
    setText(this.stages.outputInfo, hd ? baseName(hd.output) : '—');
    setAttr(this.stages.outputInfo, 'title', hd ? hd.output : null);
    const r = state.resources;
    setText(
      this.stages.buffer,
      r ? `${formatBytes(r.frameBufferBytes)} of ${formatBytes(r.frameBufferBudgetBytes)}` : '—',
    );
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
          d.audio ? h('div', { class: 'notice-hint done-audio' }, formatAudio(d.audio)) : null,
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
      // Until the job has written something there is nothing to say about it (no "not reported").
      r
        ? r.jobDiskBytes === undefined
          ? ''
          : `this job: ${formatBytes(r.jobDiskBytes)}`
        : 'waiting for the first sample',
    );
    const g = state.gpu;
    const vram = this.charts.vram;
    const cpu = g.mode === 'cpu';
    this.chartsPart.cpuState.hidden = !cpu;
    vram.plotBox.hidden = cpu;
    vram.root.classList.toggle('is-cpu', cpu);
    if (g.mode === 'gpu') {
      setText(vram.value, `${formatBytes(g.usedBytes)} / ${formatBytes(g.budgetBytes)}`);
      setText(vram.sub, `${g.name} · ${formatBytes(g.totalBytes)} on the card`);
    } else if (cpu) {
      setText(vram.value, 'CPU');
      setText(this.chartsPart.cpuReason, g.reason);
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
    this.backends.empty.hidden = has;
    this.backends.table.hidden = !has;
    if (rows !== null) this.thumbs.retain(rows.map((r) => r.name));
    if (!has) return;
    const key = JSON.stringify(rows);
    if (this.backends.body.dataset.key === key) return;
    this.backends.body.dataset.key = key;
    this.backends.body.replaceChildren(
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
          ...[r.ai, r.recording].map((text) => h('td', {}, text ?? '—')),
        ),
      ),
    );
  }
}
