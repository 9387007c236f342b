import * as vscode from 'vscode';
import { COMMANDS } from '../commands-ids';
import { jobIdsOf } from './job-commands';
import type { JobHistory } from './job-history';
import type { JobJournal } from './job-journal';
import type { JobManager } from './job-manager';

export const REMOVED_FROM_QUEUE = 'Removed from the queue before it started.';

/** Context key the Jobs view's title menu shows Pause or Resume by. */
const PAUSED_KEY = 'huaju4k.queuePaused';

/** The queue's own commands (Jobs view): reorder, remove, pause/resume, clear the history. */
export function registerQueueCommands(jobs: JobManager, history: JobHistory, journal: JobJournal): vscode.Disposable[] {
  const move = (by: number) => (arg?: unknown, all?: unknown) => {
    const ids = jobIdsOf(arg, all);
    // Moving several up keeps their order: the first one moves first; down, the last one first.
    for (const id of by < 0 ? ids : [...ids].reverse()) jobs.moveInQueue(id, by);
  };
  // The title menu follows the queue, also when a reload restores its pause (extension.ts).
  const showPaused = () => vscode.commands.executeCommand('setContext', PAUSED_KEY, jobs.queuePaused);
  void showPaused();
  return [
    jobs.onDidChangeQueue(() => void showPaused()),
    vscode.commands.registerCommand(COMMANDS.moveUp, move(-1)),
    vscode.commands.registerCommand(COMMANDS.moveDown, move(1)),
    vscode.commands.registerCommand(COMMANDS.moveToTop, move(Number.NEGATIVE_INFINITY)),
    vscode.commands.registerCommand(COMMANDS.removeFromQueue, async (arg?: unknown, all?: unknown) => {
      const ids = jobIdsOf(arg, all).filter((id) => jobs.get(id)?.phase === 'queued');
      const outputs = ids.map((id) => jobs.get(id)?.output ?? '');
      // The history keeps it (cancelled, "removed from the queue"), so that it can be retried from there; it never
      // ran, so there is nothing to resume: the session and the journal forget it.
      for (const id of ids) jobs.cancel(id, REMOVED_FROM_QUEUE);
      for (const id of ids) jobs.forget(id);
      for (const output of outputs) await journal.forget(output);
      return ids.length;
    }),
    vscode.commands.registerCommand(COMMANDS.pauseQueue, () => jobs.pauseQueue(true)),
    vscode.commands.registerCommand(COMMANDS.resumeQueue, () => jobs.pauseQueue(false)),
    vscode.commands.registerCommand(COMMANDS.clearHistory, () => history.clear()),
  ];
}
