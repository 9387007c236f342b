import { type EngineEvent, ExitCode } from '../../protocol/engine-events';
import { applyRangeEvent, type RangeView } from '../../protocol/farm-ranges';

import { formatDuration } from '../../protocol/format';
import { endPhase, type JobPhase } from '../../protocol/job-phase';
import { percentFloor } from '../../protocol/percent';

export type { JobPhase };

export interface JobFailure {
  exitCode: number | null;
  signal: string | null;
  /** The engine's machine-readable reason ('ffmpeg-missing', ...) or one of ours ('killed', 'spawn-failed'). */
  reason: string;
  message: string;
  hint?: string;
  /** Frames the checkpoint keeps, when the engine said (a cancel before the first segment keeps none). */
  framesKept?: number;
}

export interface JobSnapshot {
  id: string;
  input: string;
  output: string;
  phase: JobPhase;
  frame: number;
  total: number;
  fps: number;
  etaS: number;
  startedAt: number;
  updatedAt: number;
  workDir?: string;
  resumeFromFrame?: number;
  model?: string;
  executionProvider?: string;
  failure?: JobFailure;
  warnings: string[];
  pid?: number;
  /**
   * After a stop that is not done, when the engine said what it kept: the frames it had processed. `frame` is then
   * the frames kept (closed segments), the one number every view, the picker and the log show from there on.
   */
  framesProcessed?: number;
  /** A split job (`--workers`, `--devices`, `--farm`): its ranges, who runs each, from the engine's `range` events. */
  ranges?: RangeView[];
}

export function newJob(id: string, input: string, output: string, now: number): JobSnapshot {
  return {
    id,
    input,
    output,
    phase: 'queued',
    frame: 0,
    total: 0,
    fps: 0,
    etaS: 0,
    startedAt: now,
    updatedAt: now,
    warnings: [],
  };
}

export function percentOf(job: Pick<JobSnapshot, 'frame' | 'total'>): number {
  return job.total > 0 ? percentFloor(job.frame / job.total) : 0;
}

/** Applies one engine event; returns a new snapshot (the input is not changed). */
export function applyEngineEvent(job: JobSnapshot, ev: EngineEvent): JobSnapshot {
  const next: JobSnapshot = { ...job, updatedAt: ev.ts };
  switch (ev.type) {
    case 'start':
      next.phase = 'running';
      next.output = ev.output || job.output;
      next.total = ev.totalFrames;
      next.frame = ev.resumeFromFrame ?? 0;
      next.resumeFromFrame = ev.resumeFromFrame;
      next.workDir = ev.workDir;
      next.model = ev.model.id;
      next.executionProvider = ev.executionProvider;
      next.ranges = undefined;
      return next;
    case 'range':
      next.ranges = applyRangeEvent(job.ranges ?? [], ev);
      return next;
    case 'progress':
      next.phase = 'running';
      next.frame = ev.frame;
      next.total = ev.total || job.total;
      next.fps = ev.fps;
      next.etaS = ev.etaS;
      return next;
    case 'warning':
      next.warnings = [...job.warnings, ev.message].slice(-20);
      return next;
    case 'error':
      next.failure = {
        exitCode: ev.code,
        signal: null,
        reason: ev.reason,
        message: ev.message,
        hint: ev.hint,
        ...(ev.framesKept !== undefined && { framesKept: ev.framesKept }),
      };
      return next;
    case 'done':
      next.phase = 'done';
      next.output = ev.output || job.output;
      next.frame = ev.frames;
      next.total = ev.frames;
      next.etaS = 0;
      return next;
    default:
      return job;
  }
}

/**
 * Decides the final phase from how the engine process ended. A run killed by a signal, cancelled, or stopped by
 * the disk guard keeps its checkpoint, so it is 'interrupted' (resumable); other non-zero exits are 'failed'.
 */
export function applyExit(
  job: JobSnapshot,
  exitCode: number | null,
  signal: string | null,
  cancelRequested: boolean,
  now: number,
): JobSnapshot {
  const next: JobSnapshot = { ...job, updatedAt: now, pid: undefined };
  const phase =
    job.phase === 'failed' && exitCode === ExitCode.ok ? 'failed' : endPhase(exitCode, signal, cancelRequested);
  if (phase === 'done') {
    next.phase = 'done';
    next.failure = undefined;
    if (next.total > 0) next.frame = next.total;
    return next;
  }
  const kept = job.failure?.framesKept;
  if (kept !== undefined && kept < job.frame) {
    next.framesProcessed = job.frame;
    next.frame = kept;
  }
  if (phase === 'cancelled') {
    next.phase = 'cancelled';
    next.failure = job.failure ?? { exitCode, signal, reason: 'cancelled', message: 'Cancelled.' };
    return next;
  }
  next.failure = job.failure
    ? { ...job.failure, exitCode, signal }
    : {
        exitCode,
        signal,
        reason: signal ? 'killed' : 'engine-exit',
        message: signal
          ? `The engine was stopped by ${signal} at frame ${job.frame}.`
          : `The engine exited with code ${exitCode} without reporting an error.`,
      };
  next.phase = phase;
  return next;
}

/** A stopped job whose engine kept no frame: it can only start again (Retry), there is nothing to resume. */
export function keptNothing(job: { failure?: Pick<JobFailure, 'framesKept'> }): boolean {
  return job.failure?.framesKept === 0;
}

export function isFinished(phase: JobPhase): boolean {
  return phase === 'done' || phase === 'failed' || phase === 'cancelled' || phase === 'interrupted';
}

/** Status bar / notification text for a running job. */
export function progressText(job: JobSnapshot): string {
  if (job.phase === 'queued') return 'queued';
  if (job.total <= 0) return 'starting…';
  const parts = [`${percentOf(job)}%`, `${job.frame}/${job.total}`];
  if (job.fps > 0) parts.push(`${job.fps.toFixed(job.fps < 10 ? 1 : 0)} fps`);
  if (job.fps > 0 && job.etaS > 0) parts.push(`ETA ${formatDuration(job.etaS)}`);
  return parts.join(' · ');
}
