import * as path from 'node:path';
import { formatBytes, formatDuration } from '../../protocol/format';
import type { JobRecord } from '../jobs/job-journal';
import { type JobSnapshot, keptNothing, percentOf } from '../jobs/job-state';

export interface VideoMeta {
  width: number;
  height: number;
  durationS: number;
  fps: number;
}

export type VideoState =
  | { kind: 'not-enhanced' }
  | { kind: 'queued'; position: number }
  | { kind: 'running'; percent: number; fps: number; etaS: number }
  | { kind: 'elsewhere' }
  | { kind: 'interrupted'; percent: number; at: number; reason: string }
  | { kind: 'done'; output: string }
  | { kind: 'failed'; reason: string };

/** Everything known about one workspace video; the tree item is a pure function of it. */
export interface VideoFacts {
  path: string;
  /** Path relative to its workspace folder, for display. */
  relPath: string;
  meta?: VideoMeta | { error: string };
  /** Job of this session for the file (newest). */
  job?: JobSnapshot;
  /** Its engine runs, followed by another open window (JobManager.runningElsewhere). */
  elsewhere?: boolean;
  queuePosition?: number;
  /** Remembered job (global storage or an engine work folder). */
  record?: Pick<JobRecord, 'phase' | 'frame' | 'total' | 'updatedAt' | 'failure' | 'output'>;
  /** The output file for this video, when it exists. */
  output?: string;
  /** Its size in bytes, when it exists. */
  outputBytes?: number;
}

export function videoState(f: VideoFacts): VideoState {
  const job = f.job;
  if (job?.phase === 'queued') return { kind: 'queued', position: f.queuePosition ?? 0 };
  if (job?.phase === 'running') return { kind: 'running', percent: percentOf(job), fps: job.fps, etaS: job.etaS };
  if (f.elsewhere) return { kind: 'elsewhere' };
  const rec = job ?? f.record;
  if (rec && rec.phase !== 'done') {
    // Stopped before its first checkpoint: nothing to resume, so the video is offered Enhance (a fresh start).
    if ((rec.phase === 'interrupted' || rec.phase === 'cancelled') && keptNothing(rec) && !f.output)
      return { kind: 'not-enhanced' };
    if (rec.phase === 'interrupted' || rec.phase === 'cancelled') {
      return {
        kind: 'interrupted',
        percent: percentOf(rec),
        at: rec.updatedAt,
        reason: rec.failure?.message ?? 'interrupted',
      };
    }
    if (rec.phase === 'failed') return { kind: 'failed', reason: rec.failure?.message ?? 'failed' };
  }
  if (f.output) return { kind: 'done', output: f.output };
  if (job?.phase === 'done') return { kind: 'done', output: job.output };
  return { kind: 'not-enhanced' };
}

export function stateLabel(s: VideoState): string {
  switch (s.kind) {
    case 'not-enhanced':
      return 'not enhanced';
    case 'queued':
      return s.position > 0 ? `queued #${s.position}` : 'queued';
    case 'running':
      return `running ${s.percent}%`;
    case 'elsewhere':
      return 'running in another window';
    case 'interrupted':
      return `interrupted ${s.percent}%`;
    case 'done':
      return 'done';
    case 'failed':
      return 'failed';
  }
}

export interface VideoItemView {
  label: string;
  description: string;
  tooltip: string;
  /** `video.<state>`: menus in the manifest match on it for inline actions. */
  contextValue: string;
  /** Codicon id. */
  icon: string;
}

export function metaText(meta: VideoFacts['meta']): string {
  if (!meta) return '';
  if ('error' in meta) return 'unreadable';
  const fps = meta.fps > 0 ? ` · ${Number.isInteger(meta.fps) ? meta.fps : meta.fps.toFixed(2)} fps` : '';
  return `${meta.width}×${meta.height} · ${formatDuration(meta.durationS)}${fps}`;
}

const ICONS: Record<VideoState['kind'], string> = {
  'not-enhanced': 'file-media',
  queued: 'watch',
  running: 'sync~spin',
  elsewhere: 'multiple-windows',
  interrupted: 'debug-pause',
  done: 'pass',
  failed: 'error',
};

export function describeVideo(f: VideoFacts, now = Date.now()): VideoItemView {
  const state = videoState(f);
  const meta = metaText(f.meta);
  // The tree groups videos by folder: the description says the state, the output beside it, then the metadata.
  const description = [stateLabel(state) + outputText(state, f), meta].filter(Boolean).join(' · ');
  const lines = [f.path];
  if (meta) lines.push(meta);
  switch (state.kind) {
    case 'running':
      lines.push(`Enhancing: ${state.percent}%${state.fps > 0 ? `, ${state.fps.toFixed(1)} fps` : ''}`);
      break;
    case 'interrupted':
      lines.push(
        `Interrupted at ${state.percent}% (${ago(state.at, now)}): ${state.reason}`,
        'Resume continues from the checkpoint.',
      );
      break;
    case 'elsewhere':
      lines.push('Being enhanced; another VS Code window follows it (its progress and Cancel are there).');
      break;
    case 'failed':
      lines.push(`Failed: ${state.reason}`);
      break;
    case 'done':
      lines.push(`Enhanced: ${state.output}`);
      break;
    default:
      break;
  }
  if (meta === 'unreadable' && f.meta && 'error' in f.meta) lines.push(`ffprobe: ${f.meta.error}`);
  return {
    label: path.basename(f.path),
    description,
    tooltip: lines.join('\n'),
    // An unreadable file offers no Enhance (the engine would only fail on it): its own context value.
    contextValue: meta === 'unreadable' && state.kind === 'not-enhanced' ? 'video.unreadable' : `video.${state.kind}`,
    icon: meta === 'unreadable' && state.kind === 'not-enhanced' ? 'warning' : ICONS[state.kind],
  };
}

/** The output beside its source: "→ a.4k.mp4 (1.2 MiB)" once written. */
function outputText(state: VideoState, f: VideoFacts): string {
  if (state.kind !== 'done') return '';
  const size = f.outputBytes !== undefined ? ` (${formatBytes(f.outputBytes)})` : '';
  return ` → ${path.basename(state.output)}${size}`;
}

function ago(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return new Date(at).toISOString().slice(0, 16).replace('T', ' ');
}

/** Stable order: folder, then name (case-insensitive). */
export function sortVideos<T extends Pick<VideoFacts, 'relPath'>>(items: T[]): T[] {
  return [...items].sort((a, b) => a.relPath.localeCompare(b.relPath, undefined, { sensitivity: 'base' }));
}

export type VideoSort = 'name' | 'state' | 'duration';

/** Order of states when sorting by state: what needs attention first, finished work last. */
const STATE_ORDER: VideoState['kind'][] = [
  'running',
  'elsewhere',
  'queued',
  'failed',
  'interrupted',
  'not-enhanced',
  'done',
];

/**
 * Whether a video matches the Videos view's filter: every word of it appears in its path or its state
 * ("done", "not enhanced", "failed", …), case-insensitively. An empty filter matches everything.
 */
export function matchesFilter(f: VideoFacts, filter: string): boolean {
  const hay = `${f.relPath} ${stateLabel(videoState(f))}`.toLowerCase();
  return filter
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}

export interface VideoGroup<T> {
  /** Folder relative to the workspace folder ("." for its top level). */
  dir: string;
  items: T[];
}

/** Videos grouped by folder (sub-folders first, then the top level), each group sorted as asked. */
export function groupVideos<T extends VideoFacts>(facts: T[], sort: VideoSort = 'name'): VideoGroup<T>[] {
  const groups = new Map<string, T[]>();
  for (const f of sortVideos(facts)) {
    const dir = path.dirname(f.relPath);
    groups.set(dir, [...(groups.get(dir) ?? []), f]);
  }
  const key = (f: T): number =>
    sort === 'state'
      ? STATE_ORDER.indexOf(videoState(f).kind)
      : sort === 'duration'
        ? -(f.meta && !('error' in f.meta) ? f.meta.durationS : -1)
        : 0;
  return [...groups.entries()]
    .sort(([a], [b]) => (a === '.' ? 1 : b === '.' ? -1 : 0))
    .map(([dir, items]) => ({ dir, items: [...items].sort((a, b) => key(a) - key(b)) }));
}

/**
 * The line above the Videos tree (TreeView.message), if any: a filter that matches nothing says so instead of
 * leaving the view blank, and Restricted Mode says why no video can be enhanced here.
 */
export function videosViewMessage(v: {
  shown: number;
  total: number;
  filter: string;
  trusted: boolean;
}): string | undefined {
  const lines: string[] = [];
  if (!v.trusted && v.total > 0)
    lines.push('Restricted Mode: enhancing is off in this workspace. Trust it to enhance these videos.');
  if (v.filter && v.shown === 0 && v.total > 0)
    lines.push(`No video matches "${v.filter}" (${v.total} in all). Clear the filter to see them.`);
  return lines.length > 0 ? lines.join(' ') : undefined;
}

/** A folder row's count: files ffprobe cannot read are not counted among its videos, but named apart. */
export function folderDescription(items: VideoFacts[]): string {
  const unreadable = items.filter((f) => f.meta !== undefined && 'error' in f.meta).length;
  const videos = items.length - unreadable;
  const done = items.filter((f) => videoState(f).kind === 'done').length;
  const parts = [`${videos} video${videos === 1 ? '' : 's'}`, `${done} done`];
  if (unreadable > 0) parts.push(`${unreadable} unreadable`);
  return parts.join(' · ');
}
