/**
 * What a job's log says about its engine: one line per thing that happened, at the level it deserves. The engine's
 * events are the only source (a forked engine prints nothing else on stderr but native noise and crashes), so no
 * line appears twice; progress is a line every 10 %, not a warning per frame; a cancel is not an error.
 */
import { type EngineEvent, ExitCode } from '../../protocol/engine-events';
import { formatDuration } from '../../protocol/format';
import type { JobPhase } from '../../protocol/job-phase';
import { percentFloor } from '../../protocol/percent';
import type { JobSnapshot } from '../jobs/job-state';

export type LogLevel = 'info' | 'warn' | 'error';

export interface LogLine {
  line: string;
  level: LogLevel;
}

/** Progress is logged each time it crosses a multiple of this many percent. */
export const PROGRESS_LOG_STEP = 10;

function progressStep(frame: number, total: number): number {
  return total > 0 ? Math.floor(percentFloor(frame / total) / PROGRESS_LOG_STEP) : 0;
}

function progressLine(ev: Extract<EngineEvent, { type: 'progress' }>, before: Pick<JobSnapshot, 'frame' | 'total'>) {
  const step = progressStep(ev.frame, ev.total);
  if (step === 0 || step <= progressStep(before.frame, before.total)) return undefined;
  const eta = ev.etaS > 0 && ev.frame < ev.total ? `, ETA ${formatDuration(ev.etaS)}` : '';
  const fps = ev.fps.toFixed(ev.fps < 10 ? 1 : 0);
  return `progress ${percentFloor(ev.frame / ev.total)}%: frame ${ev.frame}/${ev.total}, ${fps} fps${eta}`;
}

/**
 * The log line for one engine event, or none. `before` is the job as it was before the event (for progress steps);
 * `cancelRequested` tells a cancel the user asked for (info) from an engine stopped by someone else (warning).
 */
export function engineEventLog(
  ev: EngineEvent,
  before: Pick<JobSnapshot, 'frame' | 'total'>,
  cancelRequested: boolean,
): LogLine | undefined {
  const info = (line: string | undefined): LogLine | undefined => (line ? { line, level: 'info' } : undefined);
  switch (ev.type) {
    case 'start': {
      const what = `${ev.totalFrames} frames, ${ev.model.id}, ${ev.executionProvider} ${ev.precision}, tile ${ev.tile}`;
      return info(`${ev.input} → ${ev.output} (${what})`);
    }
    case 'progress':
      return info(progressLine(ev, before));
    case 'segment':
      return info(`segment ${ev.index} written (frames ${ev.startFrame}–${ev.endFrame})`);
    case 'warning':
      return { line: `warning ${ev.code}: ${ev.message}`, level: 'warn' };
    case 'error': {
      if (ev.code === ExitCode.cancelled) {
        return { line: `cancelled: ${ev.message}`, level: cancelRequested ? 'info' : 'warn' };
      }
      return { line: `error ${ev.reason}: ${ev.message}${ev.hint ? ` — ${ev.hint}` : ''}`, level: 'error' };
    }
    case 'done':
      return info(`done: ${ev.output} (${ev.frames} frames in ${ev.seconds.toFixed(1)} s)`);
    default:
      return undefined;
  }
}

/** The engine's exit: info when it ended as it should (done, or cancelled as asked), a warning otherwise. */
export function engineExitLog(code: number | null, signal: string | null, phase: JobPhase): LogLine {
  const how = signal ? `signal ${signal}` : `code ${code}`;
  return {
    line: `engine exited (${how}): ${phase}`,
    level: phase === 'done' || phase === 'cancelled' ? 'info' : 'warn',
  };
}
