import * as path from 'node:path';
import { ExitCode } from '../../protocol/engine-events';
import type { JobSnapshot } from './job-state';

/** Buttons offered next to an error; the UI layer maps each to a command. */
export type FailureAction = 'installFfmpeg' | 'openSettings' | 'resume' | 'showLog' | 'retry';

export const FAILURE_ACTION_LABELS: Record<FailureAction, string> = {
  installFfmpeg: 'Install ffmpeg',
  openSettings: 'Open settings',
  resume: 'Resume',
  showLog: 'Show log',
  retry: 'Retry',
};

export interface FailureMessage {
  severity: 'error' | 'warning';
  text: string;
  actions: FailureAction[];
  /** Setting to focus when 'openSettings' is chosen. */
  settingsQuery?: string;
}

/** Engine reasons that mean the input file is not something huaju4k can read. */
const INPUT_PROBLEMS: ReadonlySet<string> = new Set([
  'not-a-video',
  'no-video-stream',
  'input-is-image',
  'input-is-folder',
  'input-missing',
  'input-unreadable',
  'input-truncated',
]);

type Failure = JobSnapshot['failure'];

/** Turns a finished, unsuccessful job into a message a user can act on. */
export function describeFailure(job: JobSnapshot): FailureMessage {
  const name = path.basename(job.input);
  const f = job.failure;
  const hint = f?.hint && !isCommandLineResume(f.hint) ? ` ${f.hint}` : '';
  const detail = f ? `${f.message}${hint}` : 'No details were reported.';
  if (job.phase === 'cancelled' || job.phase === 'interrupted') return describeStopped(job, name, detail);
  return describeByReason(name, f, detail) ?? describeByExitCode(name, f, detail);
}

/** The engine's advice to run `--resume` / `huaju4k resume` is for the command line; here the Resume action does it. */
function isCommandLineResume(hint: string): boolean {
  return /--resume|huaju4k resume/.test(hint);
}

/** Cancelled or interrupted: progress may be kept, so the message is about resuming. */
function describeStopped(job: JobSnapshot, name: string, detail: string): FailureMessage {
  const f = job.failure;
  const pct = job.total > 0 ? ` at ${Math.floor((job.frame / job.total) * 100)}%` : '';
  const what = job.phase === 'cancelled' ? 'cancelled' : 'interrupted';
  if (f?.exitCode === ExitCode.disk) {
    return {
      severity: 'warning',
      text: `huaju4k: ${name} stopped${pct} to protect your disk: ${detail} Free space or raise the budget, then resume.`,
      actions: ['resume', 'openSettings'],
      settingsQuery: 'huaju4k.disk',
    };
  }
  if (f?.framesKept === 0) {
    // Nothing was kept (stopped before the first segment): say so, and offer a fresh start, not a resume.
    return {
      severity: 'warning',
      text: `huaju4k: enhancing ${name} was ${what}${pct} before its first checkpoint: no progress is kept, and enhancing it again starts from the beginning.`,
      actions: ['retry', 'showLog'],
    };
  }
  const kept = f?.framesKept !== undefined ? `${f.framesKept} frames are kept` : 'Progress is kept';
  return {
    severity: 'warning',
    text: `huaju4k: enhancing ${name} was ${what}${pct}. ${f && what === 'interrupted' ? detail : `${kept}; you can resume.`}`,
    actions: ['resume', 'showLog'],
  };
}

function isMissingFfmpeg(f: Failure): boolean {
  const reason = f?.reason ?? '';
  const aboutFfmpeg =
    reason.startsWith('ffmpeg') || reason.startsWith('ffprobe') || /ffmpeg|ffprobe/i.test(f?.message ?? '');
  return (
    aboutFfmpeg && (f?.exitCode === ExitCode.environment || reason.endsWith('missing') || reason.endsWith('not-found'))
  );
}

/** Failures the engine's reason names precisely enough for a specific message; undefined for the rest. */
function describeByReason(name: string, f: Failure, detail: string): FailureMessage | undefined {
  const reason = f?.reason ?? '';
  if (isMissingFfmpeg(f)) {
    return {
      severity: 'error',
      text: `huaju4k: ffmpeg was not found or does not work (${detail}). Install ffmpeg or set huaju4k.ffmpegPath.`,
      actions: ['installFfmpeg', 'openSettings', 'showLog'],
      settingsQuery: 'huaju4k.ffmpegPath',
    };
  }
  if (reason === 'job-exists') {
    return {
      severity: 'warning',
      text: `huaju4k: ${name} already has an interrupted enhancement: ${f?.message}. Resume it, or delete that folder to start over.`,
      actions: ['resume', 'showLog'],
    };
  }
  if (INPUT_PROBLEMS.has(reason)) {
    // The file itself is the problem: settings cannot help, the log has ffprobe's own words.
    return { severity: 'error', text: `huaju4k: cannot enhance ${name}: ${f?.message}`, actions: ['showLog'] };
  }
  if (reason === 'already-at-target') {
    return {
      severity: 'warning',
      text:
        `huaju4k: ${f?.message}. To enhance it, choose a larger size in huaju4k.target (e.g. 7680x4320) or ` +
        `huaju4k.scale (e.g. 2); to restore it at this size instead, add "--same-size" to huaju4k.extraArgs.`,
      actions: ['openSettings', 'showLog'],
      settingsQuery: 'huaju4k.target',
    };
  }
  return undefined;
}

/** The remaining failures, by the engine's exit code. */
function describeByExitCode(name: string, f: Failure, detail: string): FailureMessage {
  switch (f?.exitCode) {
    case ExitCode.badInput:
      return {
        severity: 'error',
        text: `huaju4k: cannot enhance ${name}: ${detail}`,
        actions: ['openSettings', 'showLog'],
        settingsQuery: 'huaju4k',
      };
    case ExitCode.environment:
      return {
        severity: 'error',
        text: `huaju4k: the environment is not ready for ${name}: ${detail}`,
        actions: ['openSettings', 'showLog'],
        settingsQuery: 'huaju4k',
      };
    case ExitCode.disk:
      return {
        severity: 'error',
        text: `huaju4k: not enough disk for ${name}: ${detail}`,
        actions: ['openSettings', 'showLog'],
        settingsQuery: 'huaju4k.disk',
      };
    default:
      return {
        severity: 'error',
        text: `huaju4k: enhancing ${name} failed: ${detail}`,
        actions: ['retry', 'showLog'],
      };
  }
}
