import * as vscode from 'vscode';
import { COMMANDS } from '../commands-ids';
import type { VideosTreeProvider } from '../videos/videos-tree';
import { findInterruptedJobs } from './job-commands';
import type { JobJournal } from './job-journal';
import type { JobManager } from './job-manager';
import type { JobUi } from './job-ui';

/** The Videos tree's "interrupted" marks, from the journal and the checkpoints the engine finds. */
export async function refreshCheckpoints(
  journal: JobJournal,
  enginePath: string,
  tree: VideosTreeProvider,
): Promise<number> {
  const jobs = await findInterruptedJobs(journal, enginePath);
  tree.setInterrupted(jobs.map((j) => j.record));
  return jobs.length;
}

/** After activation: marks interrupted videos and offers to resume them; again whenever a job ends. */
export function watchInterrupted(
  jobs: JobManager,
  journal: JobJournal,
  enginePath: string,
  ui: JobUi,
  tree: VideosTreeProvider,
): vscode.Disposable {
  void offerResume(journal, enginePath, ui, tree);
  return jobs.onDidChangeJob((j) => {
    if (j.phase !== 'running' && j.phase !== 'queued') void refreshCheckpoints(journal, enginePath, tree);
  });
}

async function offerResume(
  journal: JobJournal,
  enginePath: string,
  ui: JobUi,
  tree: VideosTreeProvider,
): Promise<void> {
  if (!vscode.workspace.isTrusted) return;
  const n = await refreshCheckpoints(journal, enginePath, tree);
  if (n === 0) return;
  const text = `huaju4k: ${n === 1 ? 'one interrupted enhancement' : `${n} interrupted enhancements`} can be resumed.`;
  const choice = await ui.show('info', text, ['Resume…']);
  if (choice) await vscode.commands.executeCommand(COMMANDS.resume);
}
