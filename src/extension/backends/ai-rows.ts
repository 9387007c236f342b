/**
 * The Backends tree's rows for a hub's AI core and its recordings (pure, no `vscode` import). Both come from the
 * hub status as received (`ReceivedHubStatus`): null there means the hub did not report them (an older hub, or a
 * malformed part), shown as "not available" rather than breaking the rest of the backend's rows.
 */
import type { AiOffStatus, AiStatus, RecordingStatus } from '../../protocol/hub-status';
import type { TreeRow } from './tree-rows';

/** Context values of the AI core and Recording rows (package.json menus key on them). */
export const AI_ROW_CONTEXT = { on: 'backendAi.on', off: 'backendAi.off' } as const;
export const RECORDING_ROW_CONTEXT = {
  idle: 'backendRecording.idle',
  active: 'backendRecording.active',
  /** One recording under the Recording row (Stop Recording stops that one). */
  file: 'backendRecording.file',
} as const;

const ms = (v: number | null) => (v === null ? '—' : `${Math.round(v)} ms`);

function deviceRow(id: string, d: AiStatus['devices'][number], i: number): TreeRow {
  return {
    id: `${id}/ai/dev/${i}`,
    label: `Device ${d.id}`,
    description: `${d.executionProvider} · ${d.busy ? 'busy' : 'idle'} · ${d.frames} frames`,
    tooltip: `tile ${d.tile === 0 ? 'whole frame' : d.tile}`,
    state: 'idle',
    icon: 'chip',
  };
}

function aiOnRow(id: string, a: AiStatus): TreeRow {
  const drops = a.dropped.frames > 0 ? ` · ${a.dropped.frames} dropped` : '';
  return {
    id: `${id}/ai`,
    label: 'AI core',
    description: `${a.model} · in ${a.in.fps.toFixed(1)} · out ${a.out.fps.toFixed(1)} fps · p50 ${ms(a.latencyMs.p50)}${drops}`,
    tooltip: [
      `model ${a.model}, ${a.target ? `target ${a.target}` : `×${a.scale}`}, temporal ${a.temporal}`,
      `in ${a.in.frames} frames (${a.in.fps.toFixed(1)} fps), out ${a.out.frames} (${a.out.fps.toFixed(1)} fps)`,
      `dropped ${a.dropped.frames} (${a.dropped.fps.toFixed(1)} fps): ${a.dropped.stale} stale, ${a.dropped.failed} failed, the rest replaced by a newer frame`,
      `latency p50 ${ms(a.latencyMs.p50)}, p99 ${ms(a.latencyMs.p99)} · ${a.queue} source${a.queue === 1 ? '' : 's'} waiting`,
      ...(a.lastError ? [`last error: ${a.lastError}`] : []),
    ].join('\n'),
    state: a.lastError || a.dropped.failed > 0 ? 'warning' : 'ok',
    icon: 'sparkle',
    context: AI_ROW_CONTEXT.on,
    children: a.devices.map((d, i) => deviceRow(id, d, i)),
  };
}

function aiOffRow(id: string, a: AiOffStatus): TreeRow {
  return {
    id: `${id}/ai`,
    label: 'AI core',
    description: `off · ${a.model}${a.lastError ? ' · failed' : ''}`,
    tooltip: [a.reason, ...(a.lastError ? [`last error: ${a.lastError}`] : [])].join('\n'),
    state: a.lastError ? 'warning' : 'idle',
    icon: 'circle-slash',
    context: AI_ROW_CONTEXT.off,
  };
}

/** The AI core row: model, fps in/out, latency, drops, one child per device; "not available" when not reported. */
export function aiRow(id: string, ai: AiStatus | AiOffStatus | null): TreeRow {
  if (ai === null) {
    return {
      id: `${id}/ai`,
      label: 'AI core',
      description: 'not available',
      tooltip: 'This backend reports no AI core status (a hub older than the AI core): update huaju4k on it.',
      state: 'idle',
      icon: 'circle-slash',
    };
  }
  return ai.enabled ? aiOnRow(id, ai) : aiOffRow(id, ai);
}

/** The Recording row: one child per recording in progress (source, kind, frames, file). */
export function recordingRow(id: string, recordings: RecordingStatus[] | null): TreeRow {
  const base = { id: `${id}/recording`, label: 'Recording' };
  if (recordings === null) {
    return {
      ...base,
      description: 'not available',
      tooltip: 'This backend reports no recordings (a hub older than record/start): update huaju4k on it.',
      state: 'idle',
      icon: 'circle-slash',
    };
  }
  if (recordings.length === 0)
    return { ...base, description: 'off', state: 'idle', icon: 'circle-outline', context: RECORDING_ROW_CONTEXT.idle };
  return {
    ...base,
    description: recordings.map((r) => `${r.source} (${r.kind})`).join(', '),
    state: recordings.some((r) => r.error) ? 'warning' : 'ok',
    icon: 'record',
    context: RECORDING_ROW_CONTEXT.active,
    children: recordings.map((r) => ({
      id: `${id}/recording/${r.kind}/${r.source}`,
      label: `${r.source} (${r.kind})`,
      description: `${r.frames} frames${r.dropped > 0 ? ` · ${r.dropped} dropped` : ''}`,
      tooltip: [r.path, ...(r.error ? [`error: ${r.error}`] : [])].join('\n'),
      state: r.error ? 'warning' : 'ok',
      icon: 'file-media',
      context: RECORDING_ROW_CONTEXT.file,
    })),
  };
}

/** What the backend's own row adds to its description: ` · AI on` and ` · recording` when so. */
export function aiSummary(ai: AiStatus | AiOffStatus | null, recordings: RecordingStatus[] | null): string {
  const on = ai?.enabled ? ` · AI ${ai.out.fps.toFixed(1)} fps` : '';
  const rec = recordings && recordings.length > 0 ? ' · recording' : '';
  return on + rec;
}
