/**
 * uPlot time charts coloured from the theme's `--vscode-charts-*` variables. Canvas cannot read CSS variables, so
 * colours are resolved when a chart is built and the chart is rebuilt when VS Code switches theme (body class).
 */
import uPlot from 'uplot';
import { scaleAlpha, withAlpha } from './charts-colour';
import type { AlignedData } from './ring-buffer';

export interface ChartSeriesSpec {
  label: string;
  /** CSS variable holding the stroke colour, e.g. '--vscode-charts-blue'. */
  colorVar: string;
  fallback: string;
  scale?: 'y' | 'y2';
  dash?: number[];
  fill?: boolean;
}

export interface ChartSpec {
  /** Tick labels (short, no unit when the card title says it). */
  tick?: (v: number) => string;
  /** Accessible name of the canvas region. */
  label: string;
  series: ChartSeriesSpec[];
  format: (v: number) => string;
  format2?: (v: number) => string;
  /** Keep 0 in view for the left axis (rates and sizes). */
  fromZero?: boolean;
  /** Values are bytes: ticks at binary steps (256 MB, 512 MB, …) rather than 477 MB, 954 MB. */
  bytes?: boolean;
}

const HEIGHT = 150;

const BINARY_INCRS = [0, 1, 2, 3, 4]
  .flatMap((k) => [1, 2, 4, 8, 16, 32, 64, 128, 256, 512].map((m) => m * 1024 ** k))
  .concat([1, 2, 4, 8, 16].map((m) => m * 1024 ** 5));

function hasValues(column: ArrayLike<number | null | undefined> | undefined): boolean {
  if (!column) return false;
  for (let i = 0; i < column.length; i++) if (column[i] !== null && column[i] !== undefined) return true;
  return false;
}

function timeTick(v: number): string {
  return new Date(v * 1000).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export class TimeChart {
  private plot: uPlot | null = null;
  private data: AlignedData;
  private width = 0;

  constructor(
    private readonly container: HTMLElement,
    private readonly spec: ChartSpec,
  ) {
    this.data = [[], ...spec.series.map(() => [])] as AlignedData;
    container.setAttribute('role', 'img');
    container.setAttribute('aria-label', spec.label);
  }

  get pointCount(): number {
    return this.data[0].length;
  }

  private build(): void {
    this.plot?.destroy();
    if (this.width <= 0) return;
    const fg = cssVar('--vscode-descriptionForeground', '#8b8b8b');
    const highContrast = document.body.classList.contains('vscode-high-contrast');
    const grid = scaleAlpha(cssVar('--vscode-charts-lines', 'rgba(128,128,128,0.5)'), highContrast ? 0.8 : 0.4);
    const family = cssVar('--vscode-font-family', 'system-ui, sans-serif');
    const font = `11px ${family}`;
    const hasY2 = this.spec.series.some((s) => s.scale === 'y2');
    const axis = (scale: string, fmt: (v: number) => string, column: number, side?: 1 | 3): uPlot.Axis => ({
      scale,
      ...(side ? { side } : {}),
      stroke: fg,
      font,
      size: 60,
      grid: { stroke: grid, width: 1, show: scale === 'y' },
      ticks: { show: false },
      ...(this.spec.bytes ? { incrs: BINARY_INCRS } : {}),
      // An axis whose series has no data yet shows no made-up ticks ("0 B, 1 B" before the first sample).
      values: (u, splits) =>
        this.shown(
          scale,
          hasValues(u.data[column]) ? splits.map((v) => (v === null ? '' : fmt(v))) : splits.map(() => ''),
        ),
    });
    const y2Column = this.spec.series.findIndex((s) => s.scale === 'y2') + 1;
    const opts: uPlot.Options = {
      width: this.width,
      height: HEIGHT,
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      legend: { show: this.spec.series.length > 1, live: false },
      scales: {
        x: { time: true },
        y: this.spec.fromZero ? { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } : {},
        ...(hasY2 ? { y2: { range: (_u: uPlot, _min: number, max: number) => [0, max > 0 ? max * 1.1 : 1] } } : {}),
      },
      axes: [
        {
          stroke: fg,
          font,
          size: 36,
          gap: 10,
          space: 90,
          grid: { stroke: grid, width: 1 },
          ticks: { show: false },
          // No data (a new job, before its first event): no times, least of all the previous run's.
          values: (u, splits) =>
            this.shown(
              'x',
              splits.map((v) => (v === null || u.data[0].length === 0 ? '' : timeTick(v))),
            ),
        },
        axis('y', this.spec.tick ?? this.spec.format, 1),
        ...(hasY2 ? [axis('y2', this.spec.format2 ?? this.spec.format, y2Column, 1)] : []),
      ],
      series: [
        { label: 'Time' },
        ...this.spec.series.map((s): uPlot.Series => {
          const stroke = cssVar(s.colorVar, s.fallback);
          const fmt = s.scale === 'y2' ? (this.spec.format2 ?? this.spec.format) : this.spec.format;
          return {
            label: s.label,
            scale: s.scale ?? 'y',
            stroke,
            width: 2,
            ...(s.dash ? { dash: s.dash } : {}),
            ...(s.fill ? { fill: withAlpha(stroke, 0.14) } : {}),
            points: { show: (u: uPlot) => u.data[0].length < 3 },
            spanGaps: false,
            value: (_u, v) => (v === null || v === undefined ? '—' : fmt(v)),
          };
        }),
      ],
    };
    this.plot = new uPlot(opts, this.data as uPlot.AlignedData, this.container);
  }

  /** Axis labels are drawn on the canvas; their text is also kept on the plot box (`data-ticks-x`, …) for tests. */
  private shown(scale: string, labels: string[]): string[] {
    this.container.dataset[`ticks${scale[0].toUpperCase()}${scale.slice(1)}`] = labels.filter(Boolean).join('|');
    return labels;
  }

  setData(data: AlignedData): void {
    this.data = data;
    this.container.dataset.points = String(data[0].length);
    if (this.plot) this.plot.setData(data as uPlot.AlignedData);
    else this.build();
  }

  resize(width: number): void {
    const w = Math.max(0, Math.floor(width));
    if (w === this.width) return;
    this.width = w;
    if (this.plot) this.plot.setSize({ width: w, height: HEIGHT });
    else this.build();
  }

  /** Rebuild with the current theme's colours. */
  retheme(): void {
    if (this.plot) this.build();
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = null;
  }
}
