import * as path from 'node:path';
import * as vscode from 'vscode';
import { argUris, type CommandDeps, refuseIfUntrusted, toUri } from '../command-args';
import { COMMANDS } from '../commands-ids';
import { settingsFor } from '../settings-reader';
import { finishedOutputOf, isEnhanceable, isVideoFile, VIDEO_EXTENSIONS, VIDEO_GLOB } from '../videos/video-files';
import { skippedText, splitReadable } from './batch-skip';
import { chooseAndEstimate } from './enhance-options';
import { enqueue, localInput } from './enqueue';

async function pickVideos(): Promise<vscode.Uri[]> {
  const active = vscode.window.activeTextEditor?.document.uri ?? activeTabUri();
  const found = (await vscode.workspace.findFiles(VIDEO_GLOB, undefined, 2000)).filter(
    (uri) => uri.scheme === 'file' && isEnhanceable(uri.fsPath),
  );
  if (found.length === 0) {
    return (
      (await vscode.window.showOpenDialog({
        canSelectMany: true,
        filters: { Videos: VIDEO_EXTENSIONS },
        openLabel: 'Enhance to 4K',
      })) ?? []
    );
  }
  const items = found.map((uri) => ({
    label: path.basename(uri.fsPath),
    description: vscode.workspace.asRelativePath(uri, false),
    picked: active?.toString() === uri.toString(),
    uri,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    canPickMany: true,
    title: 'huaju4k: choose videos to enhance to 4K',
  });
  return picked?.map((p) => p.uri) ?? [];
}

function activeTabUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
}

/** The enhanceable videos in a folder (and its subfolders), in path order; outputs and engine files left out. */
async function videosInFolder(folder: vscode.Uri): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, VIDEO_GLOB), undefined, 5000);
  return found
    .filter((u) => u.scheme === 'file' && isEnhanceable(u.fsPath))
    .sort((a, b) => a.fsPath.localeCompare(b.fsPath, undefined, { numeric: true }));
}

/** A finished output (any container) with no unfinished work beside it: a folder batch skips its source. */
function alreadyEnhanced(input: string): boolean {
  return finishedOutputOf(input) !== undefined;
}

async function isFolder(uri: vscode.Uri): Promise<boolean> {
  try {
    return ((await vscode.workspace.fs.stat(uri)).type & vscode.FileType.Directory) !== 0;
  } catch {
    return false;
  }
}

/**
 * Files stay as chosen; a folder becomes the videos in it that are not enhanced yet (an output in any container
 * counts) and that ffprobe can read; the user is told what was skipped, or that there is nothing to do.
 */
async function expandFolders(d: CommandDeps, uris: vscode.Uri[]): Promise<vscode.Uri[]> {
  const out: vscode.Uri[] = [];
  for (const uri of uris) {
    if (!(await isFolder(uri))) {
      out.push(uri);
      continue;
    }
    const inside = await videosInFolder(uri);
    const notDone = inside.filter((u) => !alreadyEnhanced(u.fsPath));
    const s = settingsFor(uri);
    const ffprobe = s.ffprobePath || process.env.HUAJU4K_FFPROBE || 'ffprobe';
    const { ok, unreadable } = await splitReadable(
      notDone.map((u) => u.fsPath),
      ffprobe,
    );
    const name = vscode.workspace.asRelativePath(uri, false);
    const text = skippedText({
      name,
      found: inside.length,
      done: inside.length - notDone.length,
      unreadable,
      todo: ok.length,
    });
    if (text) {
      d.log.info(text);
      // Not awaited: the message resolves only when the user dismisses it.
      void d.ui.show('info', text);
    }
    out.push(...ok.map((p) => vscode.Uri.file(p)));
  }
  return out;
}

/** Enhance to 4K, or with `farm` Enhance on Farm (the same videos, the job's ranges sent to the farm's workers). */
async function enhanceCommand(d: CommandDeps, arg?: unknown, all?: unknown, farm = false) {
  if (await refuseIfUntrusted(d.ui)) return [];
  const chosen = argUris(arg, all);
  const picked = chosen.length > 0 ? chosen : await pickVideos();
  const uris = await expandFolders(d, picked);
  if (picked.length > 0 && uris.length === 0) return [];
  const videos = uris.filter((u) => isVideoFile(u.fsPath));
  if (uris.length > 0 && videos.length === 0) {
    await d.ui.show(
      'error',
      `huaju4k: ${path.basename(uris[0].fsPath)} is not a video file (${VIDEO_EXTENSIONS.join(', ')}).`,
    );
    return [];
  }
  const started = [];
  for (const uri of videos) {
    const job = await enqueue(d, uri, { farm });
    if (job) started.push(job);
  }
  return started;
}

/**
 * "Enhance to 4K As…": model, size, quality, container, sound and dark regions, an estimate from a short trial,
 * then the job.
 */
async function enhanceWithOptionsCommand(d: CommandDeps, arg?: unknown) {
  if (await refuseIfUntrusted(d.ui)) return undefined;
  const uri = toUri(arg) ?? (await pickVideos())[0];
  if (!uri) return undefined;
  const input = await localInput(d.ui, uri);
  if (!input) return undefined;
  const chosen = await chooseAndEstimate(d.context, d.enginePath, input, settingsFor(uri), (l) => d.log.info(l));
  if (!chosen) return undefined;
  return enqueue(d, uri, { output: chosen.output, settings: chosen.settings });
}

/** Enhance to 4K (files, a selection, folders), Enhance to 4K As… and Enhance on Farm. */
export function registerEnhanceCommands(d: CommandDeps): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(COMMANDS.enhance, (arg?: unknown, all?: unknown) => enhanceCommand(d, arg, all)),
    vscode.commands.registerCommand(COMMANDS.enhanceFolder, (arg?: unknown, all?: unknown) =>
      enhanceCommand(d, arg, all),
    ),
    vscode.commands.registerCommand(COMMANDS.enhanceWithOptions, (arg?: unknown) => enhanceWithOptionsCommand(d, arg)),
    vscode.commands.registerCommand(COMMANDS.enhanceOnFarm, (arg?: unknown, all?: unknown) =>
      enhanceCommand(d, arg, all, true),
    ),
  ];
}
