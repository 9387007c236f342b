/**
 * Holds the view state and the chart series and keeps them consistent: a new job (or an `init` replay) clears the
 * series and refills them from the same events the reducer saw. Listeners learn which parts changed so the renderer
 * redraws charts only when their data moved.
 */
import type { HostToWebviewMessage } from '../src/protocol/webview-messages';
import { initialViewState, MonitorSeries, reduceView, type ViewState } from './view-model';

export interface StoreChange {
  state: ViewState;
  previous: ViewState;
  seriesChanged: boolean;
}

export class MonitorStore {
  private current: ViewState = initialViewState();
  readonly series: MonitorSeries;
  private readonly listeners = new Set<(change: StoreChange) => void>();

  constructor(seriesCapacity?: number) {
    this.series = new MonitorSeries(seriesCapacity);
  }

  get state(): ViewState {
    return this.current;
  }

  subscribe(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A change that comes from the user, not the host (Cancel clicked): the series stay as they are. */
  update(change: (state: ViewState) => ViewState): void {
    const previous = this.current;
    const next = change(previous);
    if (next === previous) return;
    this.current = next;
    for (const l of this.listeners) l({ state: next, previous, seriesChanged: false });
  }

  dispatch(message: HostToWebviewMessage): void {
    const previous = this.current;
    const next = reduceView(previous, message);
    let seriesChanged = false;
    if (message.type === 'init') {
      this.series.clear();
      for (const e of message.events) this.series.apply(e);
      seriesChanged = true;
    } else if (message.type === 'engineEvent' && next.jobId === message.jobId) {
      if (next.jobId !== previous.jobId || message.event.type === 'start') {
        this.series.clear();
        seriesChanged = true;
      }
      seriesChanged = this.series.apply(message.event) || seriesChanged;
    }
    if (next === previous && !seriesChanged) return;
    this.current = next;
    for (const l of this.listeners) l({ state: next, previous, seriesChanged });
  }
}
