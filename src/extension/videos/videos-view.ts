import * as vscode from 'vscode';
import { COMMANDS } from '../commands-ids';
import { type VideoSort, videosViewMessage } from './videos-model';
import { VIDEOS_VIEW_ID, type VideosTreeNode, type VideosTreeProvider } from './videos-tree';

const FILTERED_KEY = 'huaju4k.videosFiltered';
const SORT_STATE = 'huaju4k.videos.sort';

const SORTS: { sort: VideoSort; label: string; detail: string }[] = [
  { sort: 'name', label: 'Name', detail: 'By file name within each folder' },
  { sort: 'state', label: 'State', detail: 'Running and queued first, then failed, interrupted, not enhanced, done' },
  { sort: 'duration', label: 'Duration', detail: 'Longest first' },
];

/**
 * The Videos view with its filter and sort: the view's description says what is filtered ("filter: done · 3 of
 * 12"); the sort is remembered per workspace.
 */
export function createVideosView(context: vscode.ExtensionContext, tree: VideosTreeProvider): vscode.Disposable[] {
  const view = vscode.window.createTreeView<VideosTreeNode>(VIDEOS_VIEW_ID, {
    treeDataProvider: tree,
    canSelectMany: true,
  });
  tree.setSort(context.workspaceState.get<VideoSort>(SORT_STATE) ?? 'name');
  const describe = ({ shown, total }: { shown: number; total: number }) => {
    view.description = tree.filter ? `filter: ${tree.filter} · ${shown} of ${total}` : undefined;
    view.message = videosViewMessage({ shown, total, filter: tree.filter, trusted: vscode.workspace.isTrusted });
  };
  const setFilter = async (text: string) => {
    tree.setFilter(text);
    await vscode.commands.executeCommand('setContext', FILTERED_KEY, tree.filter !== '');
  };
  return [
    view,
    tree.onDidList(describe),
    vscode.commands.registerCommand(COMMANDS.filterVideos, async (text?: unknown) => {
      const value =
        typeof text === 'string'
          ? text
          : await vscode.window.showInputBox({
              title: 'huaju4k: filter the Videos view',
              prompt: 'Words the path or the state must contain, e.g. "holiday", "done", "not enhanced". Empty: all.',
              value: tree.filter,
            });
      if (value !== undefined) await setFilter(value);
    }),
    vscode.commands.registerCommand(COMMANDS.clearVideoFilter, () => setFilter('')),
    vscode.commands.registerCommand(COMMANDS.refreshVideos, () => tree.rescan()),
    vscode.commands.registerCommand(COMMANDS.sortVideos, async (sort?: unknown) => {
      const chosen =
        SORTS.find((s) => s.sort === sort) ??
        (await vscode.window.showQuickPick(
          SORTS.map((s) => ({ ...s, description: s.sort === tree.sort ? 'current' : undefined })),
          { title: 'huaju4k: sort the Videos view by' },
        ));
      if (!chosen) return;
      tree.setSort(chosen.sort);
      await context.workspaceState.update(SORT_STATE, chosen.sort);
    }),
  ];
}
