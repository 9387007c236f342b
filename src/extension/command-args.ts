import * as vscode from 'vscode';
import type { JobHistory } from './jobs/job-history';
import type { JobJournal } from './jobs/job-journal';
import type { JobManager } from './jobs/job-manager';
import type { JobUi } from './jobs/job-ui';
import type { VideoNode, VideosTreeProvider } from './videos/videos-tree';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  jobs: JobManager;
  journal: JobJournal;
  history: JobHistory;
  ui: JobUi;
  tree: VideosTreeProvider;
  log: vscode.LogOutputChannel;
  enginePath: string;
}

export const UNTRUSTED_MESSAGE =
  'huaju4k: enhancing is disabled in Restricted Mode. It runs ffmpeg and the engine on workspace files, and workspace settings can point at executables. Trust this workspace to enhance videos.';

/** Accepts what VS Code passes: a Uri (explorer, editor title), a tree node, a path, or nothing (palette). */
export function toUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string') return vscode.Uri.file(arg);
  if (typeof arg === 'object' && arg !== null && (arg as VideoNode).uri instanceof vscode.Uri)
    return (arg as VideoNode).uri;
  return undefined;
}

export async function refuseIfUntrusted(ui: JobUi): Promise<boolean> {
  if (vscode.workspace.isTrusted) return false;
  const choice = await ui.show('error', UNTRUSTED_MESSAGE, ['Manage Workspace Trust']);
  if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
  return true;
}

/** The explorer passes the clicked item and the whole selection; a view passes its node(s); the palette nothing. */
export function argUris(arg: unknown, all: unknown): vscode.Uri[] {
  const many = Array.isArray(all) ? all.map(toUri).filter((u): u is vscode.Uri => !!u) : [];
  if (many.length > 0) return many;
  const one = toUri(arg);
  return one ? [one] : [];
}
