/**
 * The monitor's sections, each built once as DOM and returned with the elements the view updates in place. Pure
 * construction: no state, no rendering (PanelView does that).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { JobControlMethod } from '../src/protocol/webview-messages';
import { type ChartSpec, TimeChart } from './charts';
import { h } from './dom';
import { formatBytes, formatFps } from './format';

export const STAGES = [
  { key: 'decode', label: 'Decode' },
  { key: 'infer', label: 'Upscale' },
  { key: 'temporal', label: 'Temporal' },
  { key: 'encode', label: 'Encode' },
] as const;

export interface ChartCard {
  root: HTMLElement;
  value: HTMLElement;
  sub: HTMLElement;
  plotBox: HTMLElement;
  chart: TimeChart;
}

export type ChartKey = 'fps' | 'memory' | 'vram' | 'disk';

function stat(label: string): { root: HTMLElement; value: HTMLElement } {
  const value = h('span', { class: 'stat-value' }, '—');
  return { root: h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), value), value };
}

function fact(label: string): { root: HTMLElement; value: HTMLElement } {
  const value = h('dd', {}, '—');
  return { root: h('div', { class: 'fact' }, h('dt', {}, label), value), value };
}

export function emptySection(): HTMLElement {
  return h(
    'section',
    { class: 'empty-state', 'aria-label': 'No enhancement running' },
    h('h1', {}, 'No enhancement running'),
    h(
      'p',
      {},
      'Right-click a video in the Explorer and choose “Enhance to 4K”, or run “huaju4k: Enhance to 4K” from the Command Palette. Progress, a live before/after preview and resource charts appear here.',
    ),
  );
}

export interface HeaderSection {
  root: HTMLElement;
  title: HTMLElement;
  statusPill: HTMLElement;
  facts: Record<'model' | 'provider' | 'tile' | 'size' | 'encoder', HTMLElement>;
  buttons: Record<JobControlMethod, HTMLElement>;
  controlNote: HTMLElement;
}

export function headerSection(onControl: (method: JobControlMethod) => void): HeaderSection {
  const title = h('h1', { class: 'job-title' }, '');
  const statusPill = h('span', { class: 'status-pill', role: 'status', 'aria-live': 'polite' }, '');
  const labels = { model: 'Model', provider: 'Provider', tile: 'Tile', size: 'Resolution', encoder: 'Encoder' };
  const factParts = Object.entries(labels).map(([key, label]) => [key, fact(label)] as const);
  const facts = Object.fromEntries(factParts.map(([k, f]) => [k, f.value])) as HeaderSection['facts'];
  const button = (method: JobControlMethod, label: string, hint: string, secondary: boolean): HTMLElement => {
    const b = h('vscode-button', { 'aria-label': hint, title: hint, secondary, 'data-control': method }, label);
    b.addEventListener('click', () => {
      if (!b.hasAttribute('disabled')) onControl(method);
    });
    return b;
  };
  const buttons = {
    cancel: button('cancel', 'Cancel', 'Cancel this enhancement (it can be resumed later)', false),
    revealOutput: button('revealOutput', 'Reveal output', 'Reveal the output file in the Explorer', true),
    openLog: button('openLog', 'Open log', 'Open the engine log for this job', true),
  };
  const controlNote = h('span', { class: 'control-note', role: 'status', 'aria-live': 'polite' }, '');
  const root = h(
    'header',
    { class: 'job-header' },
    h('div', { class: 'title-row' }, title, statusPill),
    h('dl', { class: 'facts' }, ...factParts.map(([, f]) => f.root)),
    h(
      'div',
      { class: 'controls', role: 'group', 'aria-label': 'Job controls' },
      buttons.cancel,
      buttons.revealOutput,
      buttons.openLog,
      controlNote,
    ),
  );
  return { root, title, statusPill, facts, buttons, controlNote };
}

export interface ProgressSection {
  root: HTMLElement;
  bar: HTMLElement;
  barFill: HTMLElement;
  stats: Record<'percent' | 'frames' | 'fps' | 'eta' | 'elapsed', HTMLElement>;
}

export function progressSection(): ProgressSection {
  const barFill = h('div', { class: 'bar-fill' });
  const bar = h(
    'div',
    {
      class: 'bar',
      role: 'progressbar',
      'aria-label': 'Enhancement progress',
      'aria-valuemin': '0',
      'aria-valuemax': '100',
    },
    barFill,
  );
  const labels = { percent: 'Done', frames: 'Frames', fps: 'Speed', eta: 'Remaining', elapsed: 'Elapsed' };
  const parts = Object.entries(labels).map(([key, label]) => [key, stat(label)] as const);
  for (const [key, s] of parts) s.value.dataset.stat = key;
  const stats = Object.fromEntries(parts.map(([k, s]) => [k, s.value])) as ProgressSection['stats'];
  const root = h(
    'section',
    { class: 'progress', 'aria-label': 'Progress' },
    bar,
    h('div', { class: 'stats' }, ...parts.map(([, s]) => s.root)),
  );
  return { root, bar, barFill, stats };
}

export interface StagesSection {
  root: HTMLElement;
  rows: Record<string, { bar: HTMLElement; value: HTMLElement; row: HTMLElement }>;
  total: HTMLElement;
  /** The reuse ratio's row: hidden while the engine has not reported one. */
  reuseRow: HTMLElement;
  reuse: HTMLElement;
  segments: HTMLElement;
  /** A split job's "ranges: 3 done, 1 running (worker 2), 0 failed": hidden for a job run in one piece. */
  rangesRow: HTMLElement;
  ranges: HTMLElement;
  buffer: HTMLElement;
  sourceInfo: HTMLElement;
  outputInfo: HTMLElement;
}

export function stagesSection(): StagesSection {
  const rows: StagesSection['rows'] = {};
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
    rows[s.key] = { bar, value, row };
    stageList.append(row);
  }
  const total = h('span', { class: 'card-figure' }, '—');
  const [reuse, segments, buffer, sourceInfo] = [0, 1, 2, 3].map(() => h('span', {}, '—'));
  const outputInfo = h('span', { class: 'ellipsis' }, '—');
  const reuseHint = 'Share of tiles the temporal stage reused from the previous frame';
  const reuseRow = h('div', { class: 'reuse-row', hidden: true }, h('dt', { title: reuseHint }, 'Reuse ratio'));
  reuseRow.append(h('dd', {}, reuse));
  const ranges = h('span', {}, '—');
  const rangesRow = h('div', { class: 'ranges-row', hidden: true }, h('dt', {}, 'Ranges'), h('dd', {}, ranges));
  const root = h(
    'section',
    { class: 'card stages', 'aria-labelledby': 'stages-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'stages-title' }, 'Time per frame'), total),
    stageList,
    h(
      'dl',
      { class: 'mini-facts' },
      reuseRow,
      h('div', {}, h('dt', {}, 'Segments written'), h('dd', {}, segments)),
      rangesRow,
      h('div', {}, h('dt', {}, 'Frame buffer'), h('dd', {}, buffer)),
      h('div', {}, h('dt', {}, 'Source'), h('dd', {}, sourceInfo)),
      h('div', {}, h('dt', {}, 'Output'), h('dd', {}, outputInfo)),
    ),
  );
  return { root, rows, total, reuseRow, reuse, segments, rangesRow, ranges, buffer, sourceInfo, outputInfo };
}

function chartCard(key: ChartKey, title: string, spec: ChartSpec): ChartCard {
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
}

export interface ChartsSection {
  root: HTMLElement;
  cards: Record<ChartKey, ChartCard>;
  /** Shown in the GPU card instead of its chart when the job runs on the CPU. */
  cpuState: HTMLElement;
  cpuReason: HTMLElement;
}

export function chartsSection(): ChartsSection {
  const bytes = (v: number) => formatBytes(v);
  const cards: Record<ChartKey, ChartCard> = {
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
      // One scale for both: on an axis of its own a job of a few KiB was drawn as tall as 70 GiB free.
      series: [
        { label: 'Free', colorVar: '--vscode-charts-green', fallback: '#89d185' },
        { label: 'This job', colorVar: '--vscode-charts-blue', fallback: '#3794ff', fill: true },
      ],
    }),
  };
  const cpuReason = h('p', { class: 'cpu-reason' }, '');
  // The card's figure already says "CPU"; this only explains why there is no chart.
  const cpuState = h(
    'div',
    { class: 'cpu-state', hidden: true },
    h('p', {}, 'No GPU in use, so there is no video memory to chart.'),
    cpuReason,
  );
  cards.vram.root.append(cpuState);
  const root = h('div', { class: 'charts' }, cards.fps.root, cards.memory.root, cards.vram.root, cards.disk.root);
  return { root, cards, cpuState, cpuReason };
}

export interface BackendsSection {
  root: HTMLElement;
  body: HTMLElement;
  table: HTMLElement;
  empty: HTMLElement;
}

export function backendsSection(): BackendsSection {
  const body = h('tbody', {});
  const columns = ['Backend', 'Broadcast', 'State', 'Subscribers', 'fps', 'Relay', 'Heartbeat', 'AI core', 'Recording'];
  const table = h(
    'table',
    { class: 'backends-table', hidden: true },
    h('caption', { class: 'visually-hidden' }, 'Stream hubs and their status'),
    h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)))),
    body,
  );
  const empty = h(
    'div',
    { class: 'backends-empty' },
    h('strong', {}, 'No backends connected.'),
    ' Stream hubs listed in the huaju4k.backends setting appear here with a live thumbnail of their broadcast, ' +
      'subscribers, fps, relay and heartbeat.',
  );
  const root = h(
    'section',
    { class: 'card backends', 'aria-labelledby': 'backends-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'backends-title' }, 'Backends')),
    empty,
    table,
  );
  return { root, body, table, empty };
}
