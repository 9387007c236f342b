import type { AudioReport } from '../src/protocol/engine-events';
import { percentFloor } from '../src/protocol/percent';

// Number formatting for the monitor: short, stable widths, units a user reads at a glance.

// Bytes and durations follow the one rule every side uses (engine messages, the trees, this monitor).
export { formatBytes, formatDuration } from '../src/protocol/format';

export function formatFps(fps: number | null | undefined): string {
  if (fps === null || fps === undefined || !Number.isFinite(fps)) return '—';
  return fps >= 100 ? fps.toFixed(0) : fps >= 10 ? fps.toFixed(1) : fps.toFixed(2);
}

export function formatPercent(fraction: number | null | undefined, digits = 0): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  return `${percentFloor(fraction, digits).toFixed(digits)}%`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 10 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
}

/** The last path segment, for headers; the full path goes in the tooltip. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/**
 * The `done` report's audio part in one line: integrated loudness and noise floor, as recorded → as treated
 * ("Sound (stage): loudness −27.4 → −16.0 LUFS, noise floor −52.1 → −66.3 dBFS").
 */
export function formatAudio(a: AudioReport): string {
  const n = (v: number) => (Number.isFinite(v) ? v.toFixed(1).replace('-', '−') : '—');
  return (
    `Sound (${a.mode}): loudness ${n(a.before.integratedLufs)} → ${n(a.after.integratedLufs)} LUFS, ` +
    `noise floor ${n(a.before.noiseFloorDb)} → ${n(a.after.noiseFloorDb)} dBFS`
  );
}
