/**
 * How a backend's client view becomes a monitor row and a tree item's look (pure; `backends-tree.ts` turns the
 * presentation into a `vscode.TreeItem`).
 */
import type { BackendView } from '../../hub/client';
import type { ReceivedHubStatus } from '../../protocol/hub-status';
import type { MonitorBackendRow } from '../../protocol/webview-messages';
import type { RowState, TreeRow } from './tree-rows';

export function monitorRowFromView(view: BackendView): MonitorBackendRow {
  if (view.state === 'reachable' && view.snapshot?.kind === 'huaju4k-hub') {
    return backendRowFromHubStatus(view.name, view.url, view.snapshot.status);
  }
  if (view.state === 'reachable') {
    const ok = view.snapshot?.kind === 'blankend' ? view.snapshot.endpoints.filter((e) => e.ok).length : 0;
    return { name: view.name, url: view.url, reachable: true, relay: `blankend (${ok} status endpoints)` };
  }
  const error = view.state === 'connecting' ? 'connecting…' : (view.error ?? view.state);
  return backendRowFromHubStatus(view.name, view.url, undefined, error);
}

/** Theme colour ids (they follow the user's theme) for the row icon of each state. */
export const ROW_STATE_COLORS: Readonly<Record<RowState, string | undefined>> = {
  ok: 'testing.iconPassed',
  warning: 'list.warningForeground',
  error: 'testing.iconFailed',
  idle: undefined,
};

export interface RowPresentation {
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  icon: string;
  colorId?: string;
  collapsible: 'none' | 'collapsed' | 'expanded';
  /** `backend.<state>` on a backend's own row (menus key on it), the row's `context` or `backendDetail` on children. */
  contextValue: string;
}

/** A backend's top row starts expanded (its summary rows are the point of the view); deeper rows collapsed. */
export function presentRow(row: TreeRow, top: BackendView | undefined): RowPresentation {
  const hasChildren = (row.children?.length ?? 0) > 0;
  return {
    id: row.id,
    label: row.label,
    description: row.description,
    tooltip: top ? topTooltip(row, top) : row.tooltip,
    icon: row.icon,
    colorId: row.icon.endsWith('~spin') ? undefined : ROW_STATE_COLORS[row.state],
    collapsible: !hasChildren ? 'none' : top ? 'expanded' : 'collapsed',
    contextValue: top ? `backend.${top.state}` : (row.context ?? 'backendDetail'),
  };
}

function topTooltip(row: TreeRow, view: BackendView): string {
  const lines = [`${view.name} — ${view.state}`, row.tooltip ?? view.url];
  if (view.lastOkAt !== undefined) lines.push(`last answer ${new Date(view.lastOkAt).toLocaleTimeString()}`);
  if (view.failures > 0) lines.push(`${view.failures} failed poll${view.failures === 1 ? '' : 's'} in a row`);
  return lines.join('\n');
}

/** The backend a command was invoked for: a tree node, a name (palette/API), or nothing. */
export function backendNameOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (typeof arg === 'object' && arg !== null) {
    const node = arg as { backend?: { name?: unknown }; row?: { id?: unknown } };
    if (typeof node.backend?.name === 'string') return node.backend.name;
    const id = node.row?.id;
    if (typeof id === 'string' && id.startsWith('backend/')) return id.slice('backend/'.length).split('/')[0];
  }
  return undefined;
}

export interface ProbeSummary {
  severity: 'info' | 'warning' | 'error';
  text: string;
}

/** The Test Backend command's message for one probe result. */
export function describeProbe(
  name: string,
  url: string,
  outcome: Pick<BackendView, 'state' | 'snapshot' | 'error'>,
): ProbeSummary {
  if (outcome.state === 'unauthorized')
    return { severity: 'error', text: `Backend "${name}" refused the token (${url}). Set its token and test again.` };
  if (outcome.state !== 'reachable' || !outcome.snapshot)
    return {
      severity: 'error',
      text: `Backend "${name}" is unreachable: ${outcome.error ?? 'no answer'}. Check that it runs and the URL in huaju4k.backends.`,
    };
  const snap = outcome.snapshot;
  if (snap.kind === 'blankend') {
    const ok = snap.endpoints.filter((e) => e.ok).length;
    return {
      severity: ok === snap.endpoints.length ? 'info' : 'warning',
      text: `Backend "${name}" is reachable: a blankend service (${ok} of ${snap.endpoints.length} status endpoints answer).`,
    };
  }
  const s = snap.status;
  const relay = s.relay.enabled ? `relay ${s.relay.connected ? 'connected' : 'disconnected'}` : 'relay off';
  return {
    severity: s.relay.enabled && !s.relay.connected ? 'warning' : 'info',
    text: `Backend "${name}" is reachable: huaju4k hub, ${s.subscribers.length} subscriber${s.subscribers.length === 1 ? '' : 's'}, ${s.broadcast.fps.toFixed(1)} fps, ${relay}.`,
  };
}

/** The monitor's one-line AI core summary: fps in/out, p50/p99 latency, drops and devices, or why there is none. */
export function monitorAiText(ai: ReceivedHubStatus['ai']): string {
  if (ai === null) return 'not available';
  if (!ai.enabled) return `off${ai.lastError ? ` (${ai.lastError})` : ''}`;
  const ms = (v: number | null) => (v === null ? '—' : Math.round(v).toString());
  const devices = ai.devices.map((d) => d.id).join(',');
  return `in ${ai.in.fps.toFixed(1)} · out ${ai.out.fps.toFixed(1)} fps · ${ms(ai.latencyMs.p50)}/${ms(ai.latencyMs.p99)} ms · ${ai.dropped.frames} dropped · ${devices}`;
}

/** Maps the hub client's typed status onto the monitor's backends row. */
export function backendRowFromHubStatus(
  name: string,
  url: string,
  status: ReceivedHubStatus | undefined,
  error?: string,
): MonitorBackendRow {
  if (!status) return { name, url, reachable: false, ...(error ? { error } : {}) };
  const relay = status.relay;
  return {
    name,
    url,
    reachable: true,
    subscribers: status.subscribers.length,
    fps: status.broadcast.fps,
    relay: relay.enabled ? (relay.connected ? 'connected' : 'disconnected') : 'off',
    ...(relay.enabled && relay.heartbeatAgeMs !== null ? { heartbeatAgeS: relay.heartbeatAgeMs / 1000 } : {}),
    ai: monitorAiText(status.ai),
    recording:
      status.recordings === null ? 'not available' : status.recordings.map((r) => r.source).join(', ') || 'off',
    ...(error ? { error } : {}),
  };
}
