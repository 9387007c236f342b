/**
 * What the Backends tree shows for one backend, as plain rows (no `vscode` import): the extension turns each row
 * into a TreeItem (label, description, tooltip, ThemeIcon from `icon` coloured by `state`, children collapsed).
 */

import type { BackendView, GenericEndpoint } from '../../hub/client';
import { formatBytes } from '../../protocol/format';
import type { ReceivedHubStatus } from '../../protocol/hub-status';
import { aiRow, aiSummary, recordingRow } from './ai-rows';

export type RowState = 'ok' | 'warning' | 'error' | 'idle';

export interface TreeRow {
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  state: RowState;
  /** A codicon id (e.g. 'pass', 'error', 'radio-tower'). */
  icon: string;
  /** The tree item's context value for a detail row that has commands (default `backendDetail`). */
  context?: string;
  children?: TreeRow[];
}

export function formatAge(ms: number | null): string {
  if (ms === null) return 'never';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** A heartbeat older than three intervals of the seed default (1 s) is worth a warning. */
const STALE_HEARTBEAT_MS = 3000;

function relayRow(id: string, s: ReceivedHubStatus): TreeRow {
  const r = s.relay;
  if (!r.enabled)
    return { id: `${id}/relay`, label: 'Relay', description: 'off', state: 'idle', icon: 'debug-disconnect' };
  const stale = r.heartbeatAgeMs !== null && r.heartbeatAgeMs > STALE_HEARTBEAT_MS;
  const state: RowState = !r.connected ? 'error' : stale || !r.linked ? 'warning' : 'ok';
  const link = r.connected ? (r.linked ? 'linked' : 'connected, not linked') : 'disconnected';
  return {
    id: `${id}/relay`,
    label: 'Relay',
    description: `${link} · heartbeat ${formatAge(r.heartbeatAgeMs)}`,
    tooltip: [
      `${r.endpoint} as ${r.identity}`,
      `sent ${r.send.frames} frames (${formatBytes(r.send.bytes)}), dropped ${r.send.dropped}, queued ${r.send.queued}`,
      `received ${r.recv.frames} frames (${formatBytes(r.recv.bytes)}), handled ${r.recv.handled}`,
      `reconnects ${r.reconnects}`,
    ].join('\n'),
    state,
    icon: r.connected ? 'radio-tower' : 'debug-disconnect',
  };
}

function hubChildren(id: string, s: ReceivedHubStatus): TreeRow[] {
  const dropped = s.subscribers.reduce((a, x) => a + x.dropped, 0);
  const rows: TreeRow[] = [
    {
      id: `${id}/subscribers`,
      label: 'Subscribers',
      description: `${s.subscribers.length}${dropped > 0 ? ` · ${dropped} dropped` : ''}`,
      state: dropped > 0 ? 'warning' : 'ok',
      icon: 'organization',
      children: s.subscribers.map((x) => ({
        id: `${id}/sub/${x.id}`,
        label: `${x.path} ${x.remote}`,
        description: `${x.delivered} sent · ${x.dropped} dropped`,
        tooltip: `queued ${x.queued}, socket buffer ${formatBytes(x.bufferedBytes)}`,
        state: x.dropped > 0 ? 'warning' : 'ok',
        icon: 'person',
      })),
    },
    {
      id: `${id}/fps`,
      label: 'Frames',
      description: `in ${s.ingest.fps.toFixed(1)} fps · out ${s.broadcast.fps.toFixed(1)} fps`,
      tooltip: `ingest ${s.ingest.frames} (${formatBytes(s.ingest.bytes)}), rejected ${s.ingest.rejected}, oversized ${s.ingest.oversized}\nbroadcast ${s.broadcast.frames} (${formatBytes(s.broadcast.bytes)})`,
      state: s.ingest.rejected + s.ingest.oversized > 0 ? 'warning' : 'ok',
      icon: 'pulse',
    },
    relayRow(id, s),
    aiRow(id, s.ai),
    recordingRow(id, s.recordings),
  ];
  if (s.codecSessions.length > 0) {
    rows.push({
      id: `${id}/codec`,
      label: 'Decoders',
      description: s.codecSessions.map((c) => `${c.codec}/${c.mode}`).join(', '),
      tooltip: s.codecSessions.map((c) => `${c.id}: pid ${c.pid ?? '—'}, ${c.frames} frames`).join('\n'),
      state: 'ok',
      icon: 'file-media',
    });
  }
  rows.push({
    id: `${id}/resources`,
    label: 'Resources',
    description: `${s.resources.length} live · RSS ${formatBytes(s.process.rssBytes)}`,
    state: 'idle',
    icon: 'server-process',
    children: s.resources.map((r, i) => ({
      id: `${id}/res/${i}`,
      label: `${r.kind} ${r.id}`,
      description: r.detail,
      state: 'idle',
      icon: 'circle-small',
    })),
  });
  return rows;
}

/** Unknown JSON flattened to `a.b.c = value` rows, capped so a huge body cannot flood the tree. */
export function genericRows(idPrefix: string, value: unknown, limit = 40): TreeRow[] {
  const out: TreeRow[] = [];
  const walk = (v: unknown, path: string) => {
    if (out.length >= limit) return;
    if (typeof v === 'object' && v !== null) {
      for (const [k, child] of Object.entries(v)) walk(child, path ? `${path}.${k}` : k);
      return;
    }
    out.push({
      id: `${idPrefix}/${path}`,
      label: path || '(value)',
      description: String(v),
      state: 'idle',
      icon: 'symbol-field',
    });
  };
  walk(value, '');
  return out;
}

function blankendChildren(id: string, endpoints: GenericEndpoint[]): TreeRow[] {
  return endpoints.map((e) => ({
    id: `${id}${e.path}`,
    label: e.path.replace('/api/v1/', ''),
    description: e.ok ? 'ok' : (e.error ?? `HTTP ${e.httpStatus}`),
    state: e.ok ? 'ok' : 'warning',
    icon: e.ok ? 'pass' : 'warning',
    children: e.ok ? genericRows(`${id}${e.path}`, e.body) : undefined,
  }));
}

/** The top row for one backend, with its children. */
export function backendTreeRow(view: BackendView): TreeRow {
  const id = `backend/${view.name}`;
  const base = { id, label: view.name, tooltip: view.url };
  if (view.state === 'connecting') return { ...base, description: 'connecting…', state: 'idle', icon: 'loading~spin' };
  if (view.state !== 'reachable') {
    const retry = view.retryInMs !== undefined ? ` · retry in ${formatAge(view.retryInMs)}` : '';
    return {
      ...base,
      description: `${view.state}${retry}`,
      tooltip: `${view.url}\n${view.error ?? ''}`,
      state: 'error',
      icon: view.state === 'unauthorized' ? 'lock' : 'error',
    };
  }
  const snap = view.snapshot!;
  if (snap.kind === 'blankend') {
    return {
      ...base,
      description: 'blankend · reachable',
      state: 'ok',
      icon: 'pass',
      children: blankendChildren(id, snap.endpoints),
    };
  }
  const s = snap.status;
  const relay = s.relay.enabled ? ` · relay ${s.relay.connected ? 'up' : 'down'}` : '';
  return {
    ...base,
    description: `${s.subscribers.length} subs · ${s.broadcast.fps.toFixed(1)} fps${relay}${aiSummary(s.ai, s.recordings)}`,
    state: s.relay.enabled && !s.relay.connected ? 'warning' : 'ok',
    icon: 'pass',
    children: hubChildren(id, s),
  };
}
