import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { workDirFor } from '../protocol/output-name';
import { COMMANDS } from './commands-ids';
import { openCompare } from './compare-panel';
import { listEngineJobs } from './engine-jobs';
import { chooseAndEstimate } from './enhance-options';
import type { JobHistory } from './job-history';
import type { JobJournal } from './job-journal';
import type { JobManager, JobRequest } from './job-manager';
import { isFinished } from './job-state';
import type { JobUi } from './job-ui';
import { isJobNode } from './jobs-tree';
import { MonitorPanel } from './monitor';
import { findResumable, listResumable, mergeResumable, type ResumableJob, resumeArgs, resumePickItem } from './resume';
import { revealFile } from './reveal';
import { buildEnhanceArgs, type EnhanceSettings, engineEnv, SettingsError } from './settings';
import { settingsFor } from './settings-reader';
import { defaultOutputPath, isEnhanceable, isVideoFile, VIDEO_EXTENSIONS, VIDEO_GLOB } from './video-files';
import type { VideoNode, VideosTreeProvider } from './videos-tree';

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

/** Interrupted jobs: remembered by the extension plus checkpoints the engine finds in the workspace folders. */
export async function findInterruptedJobs(journal: JobJournal, enginePath: string): Promise<ResumableJob[]> {
  const folders = (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === 'file')
    .map((f) => f.uri.fsPath);
  const checkpoints = await listEngineJobs(enginePath, folders);
  return mergeResumable(
    listResumable(journal),
    checkpoints.filter((c) => existsSync(c.input)),
  );
}

const REPLACE = 'Replace';
const OPEN_EXISTING = 'Open Existing';

export const UNTRUSTED_MESSAGE =
  'huaju4k: enhancing is disabled in Restricted Mode. It runs ffmpeg and the engine on workspace files, and workspace settings can point at executables. Trust this workspace to enhance videos.';

/** Accepts what VS Code passes: a Uri (explorer, editor title), a tree node, a path, or nothing (palette). */
function toUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string') return vscode.Uri.file(arg);
  if (typeof arg === 'object' && arg !== null && (arg as VideoNode).uri instanceof vscode.Uri)
    return (arg as VideoNode).uri;
  return undefined;
}

async function refuseIfUntrusted(ui: JobUi): Promise<boolean> {
  if (vscode.workspace.isTrusted) return false;
  const choice = await ui.show('error', UNTRUSTED_MESSAGE, ['Manage Workspace Trust']);
  if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
  return true;
}

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

/**
 * A finished output is never replaced without asking (the engine refuses without --overwrite). Resolves to the
 * extra engine arguments, or undefined when the user keeps the existing file.
 */
async function confirmReplace(ui: JobUi, input: string, output: string, asked: boolean): Promise<string[] | undefined> {
  if (!existsSync(output) || existsSync(workDirFor(output))) return [];
  if (asked) return ['--overwrite'];
  const choice = await ui.show(
    'warning',
    `huaju4k: ${path.basename(output)} already exists. Enhance ${path.basename(input)} again and replace it?`,
    [REPLACE, OPEN_EXISTING],
  );
  if (choice === OPEN_EXISTING) await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(output));
  return choice === REPLACE ? ['--overwrite'] : undefined;
}

interface EnqueueExtra {
  output?: string;
  /** Settings to use instead of the configured ones (Enhance to 4K As…). */
  settings?: EnhanceSettings;
  resumeOf?: string[];
  replaceConfirmed?: boolean;
}

/** The input path of a video the engine can read, or undefined after telling the user why not. */
async function localInput(ui: JobUi, uri: vscode.Uri): Promise<string | undefined> {
  if (uri.scheme !== 'file') {
    await ui.show(
      'error',
      `huaju4k: ${uri.toString()} is not on a local or remote file system; copy it into the workspace first.`,
    );
    return undefined;
  }
  if (!existsSync(uri.fsPath)) {
    await ui.show('error', `huaju4k: ${uri.fsPath} does not exist.`);
    return undefined;
  }
  return uri.fsPath;
}

/** The engine arguments from the settings, or undefined after offering to open the setting that is wrong. */
async function argsFromSettings(
  ui: JobUi,
  input: string,
  output: string | undefined,
  settings: EnhanceSettings,
): Promise<string[] | undefined> {
  try {
    return buildEnhanceArgs({ input, output }, settings);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    const choice = await ui.show('error', err.message, ['Open settings']);
    if (choice) await vscode.commands.executeCommand('workbench.action.openSettings', `huaju4k.${err.key}`);
    return undefined;
  }
}

/** Queues one enhancement (new, or a resume with the recorded arguments); undefined when it is not started. */
async function enqueue(d: CommandDeps, uri: vscode.Uri, extra: EnqueueExtra = {}) {
  const { ui, jobs } = d;
  const input = await localInput(ui, uri);
  if (!input) return undefined;
  const settings = extra.settings ?? settingsFor(uri);
  const args = extra.resumeOf ?? (await argsFromSettings(ui, input, extra.output, settings));
  if (!args) return undefined;
  if (!extra.resumeOf) {
    const output = extra.output ?? defaultOutputPath(input);
    const replace = await confirmReplace(ui, input, output, extra.replaceConfirmed === true);
    if (!replace) return undefined;
    args.push(...replace);
  }
  const request: JobRequest = {
    input,
    output: extra.output ?? outputFromArgs(args) ?? defaultOutputPath(input),
    args,
    env: engineEnv(settings),
    device: settings.executionProvider === 'auto' ? 'default' : settings.executionProvider,
  };
  jobs.setPerDevice(settings.jobsPerDevice);
  try {
    return jobs.enqueue(request);
  } catch (err) {
    await ui.show('warning', `huaju4k: ${(err as Error).message}`);
    return undefined;
  }
}

/** The interrupted job to resume: the one the argument names, else the user's pick; undefined when none. */
async function chooseResumable(d: CommandDeps, arg: unknown): Promise<ResumableJob | undefined> {
  const { ui } = d;
  const resumable = await findInterruptedJobs(d.journal, d.enginePath);
  const target = toUri(arg)?.fsPath;
  if (target) {
    const found = findResumable(resumable, target);
    if (!found) await ui.show('warning', `huaju4k: no interrupted enhancement found for ${target}.`);
    return found;
  }
  if (resumable.length === 0) {
    await ui.show('info', 'huaju4k: there are no interrupted enhancements to resume.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    resumable.map((job) => ({ ...resumePickItem(job), job })),
    { title: 'huaju4k: resume an interrupted enhancement', matchOnDetail: true },
  );
  return picked?.job;
}

async function resumeCommand(d: CommandDeps, arg?: unknown) {
  if (await refuseIfUntrusted(d.ui)) return undefined;
  const chosen = await chooseResumable(d, arg);
  if (!chosen) return undefined;
  const rec = chosen.record;
  d.log.info(`resuming ${rec.input} → ${rec.output} from ${chosen.percent}%`);
  return enqueue(d, vscode.Uri.file(rec.input), { output: rec.output, resumeOf: resumeArgs(rec) });
}

/** The enhanceable videos in a folder (and its subfolders), in path order; outputs and engine files left out. */
async function videosInFolder(folder: vscode.Uri): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, VIDEO_GLOB), undefined, 5000);
  return found
    .filter((u) => u.scheme === 'file' && isEnhanceable(u.fsPath))
    .sort((a, b) => a.fsPath.localeCompare(b.fsPath, undefined, { numeric: true }));
}

/** A finished output with no unfinished work beside it: a folder batch skips its source instead of asking. */
function alreadyEnhanced(input: string): boolean {
  const output = defaultOutputPath(input);
  return existsSync(output) && !existsSync(workDirFor(output));
}

async function isFolder(uri: vscode.Uri): Promise<boolean> {
  try {
    return ((await vscode.workspace.fs.stat(uri)).type & vscode.FileType.Directory) !== 0;
  } catch {
    return false;
  }
}

/**
 * Files stay as chosen; a folder becomes the videos in it that are not enhanced yet (the user is told how many
 * were skipped, or that there is nothing to do).
 */
async function expandFolders(d: CommandDeps, uris: vscode.Uri[]): Promise<vscode.Uri[]> {
  const out: vscode.Uri[] = [];
  for (const uri of uris) {
    if (!(await isFolder(uri))) {
      out.push(uri);
      continue;
    }
    const inside = await videosInFolder(uri);
    const todo = inside.filter((u) => !alreadyEnhanced(u.fsPath));
    const name = vscode.workspace.asRelativePath(uri, false);
    const skipped = inside.length - todo.length;
    if (todo.length === 0) {
      const why = inside.length === 0 ? 'has no videos' : `has only enhanced videos (${skipped})`;
      // Not awaited: the message resolves only when the user dismisses it.
      void d.ui.show('info', `huaju4k: ${name} ${why}; nothing to enhance.`);
    } else if (skipped > 0) {
      d.log.info(`${name}: ${skipped} video(s) already enhanced, skipped`);
    }
    out.push(...todo);
  }
  return out;
}

/** The explorer passes the clicked item and the whole selection; a view passes its node(s); the palette nothing. */
function argUris(arg: unknown, all: unknown): vscode.Uri[] {
  const many = Array.isArray(all) ? all.map(toUri).filter((u): u is vscode.Uri => !!u) : [];
  if (many.length > 0) return many;
  const one = toUri(arg);
  return one ? [one] : [];
}

async function enhanceCommand(d: CommandDeps, arg?: unknown, all?: unknown) {
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
    const job = await enqueue(d, uri);
    if (job) started.push(job);
  }
  return started;
}

/** "Enhance to 4K As…": model, size, quality and container, an estimate from a short trial, then the job. */
async function enhanceWithOptionsCommand(d: CommandDeps, arg?: unknown) {
  if (await refuseIfUntrusted(d.ui)) return undefined;
  const uri = toUri(arg) ?? (await pickVideos())[0];
  if (!uri) return undefined;
  const input = await localInput(d.ui, uri);
  if (!input) return undefined;
  const chosen = await chooseAndEstimate(d.context, d.enginePath, input, settingsFor(uri));
  if (!chosen) return undefined;
  return enqueue(d, uri, { output: chosen.output, settings: chosen.settings });
}

/** Job ids a command argument names: a Jobs view row (or the selection), an id, or a list of ids. */
export function jobIdsOf(arg: unknown, all?: unknown): string[] {
  const list = Array.isArray(all) && all.length > 0 ? all : Array.isArray(arg) ? arg : [arg];
  return list
    .map((x) => (isJobNode(x) ? x.jobId : typeof x === 'string' ? x : undefined))
    .filter((id): id is string => !!id);
}

/**
 * Retry of ended jobs: one with a checkpoint resumes from it, the others start again with the same output and the
 * current settings.
 */
async function retryCommand(d: CommandDeps, arg?: unknown, all?: unknown) {
  if (await refuseIfUntrusted(d.ui)) return [];
  const started = [];
  for (const id of jobIdsOf(arg, all)) {
    const ended = d.jobs.get(id) ?? d.history.get(id);
    if (!ended || !isFinished(ended.phase)) continue;
    const job = existsSync(workDirFor(ended.output))
      ? await resumeCommand(d, vscode.Uri.file(ended.output))
      : await enqueue(d, vscode.Uri.file(ended.input), { output: ended.output });
    if (job) started.push(job);
  }
  return started;
}

async function cancelCommand(d: CommandDeps, arg?: unknown): Promise<boolean> {
  const { jobs } = d;
  const uri = toUri(arg);
  const active = jobs.jobs().filter((j) => j.phase === 'running' || j.phase === 'queued');
  let id = uri ? active.find((j) => j.input === uri.fsPath || j.output === uri.fsPath)?.id : undefined;
  if (!id && typeof arg === 'string') id = active.find((j) => j.id === arg)?.id;
  if (!id && active.length === 1) id = active[0].id;
  if (!id && active.length > 1) {
    const pick = await vscode.window.showQuickPick(
      active.map((j) => ({ label: path.basename(j.input), description: j.phase, id: j.id })),
      { title: 'huaju4k: cancel which job?' },
    );
    id = pick?.id;
  }
  if (!id) {
    if (active.length === 0) await d.ui.show('info', 'huaju4k: no job is running.');
    return false;
  }
  return jobs.cancel(id);
}

export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const { jobs, tree, log, context } = d;
  return [
    vscode.commands.registerCommand(COMMANDS.enhance, (arg?: unknown, all?: unknown) => enhanceCommand(d, arg, all)),
    vscode.commands.registerCommand(COMMANDS.enhanceFolder, (arg?: unknown, all?: unknown) =>
      enhanceCommand(d, arg, all),
    ),
    vscode.commands.registerCommand(COMMANDS.retry, (arg?: unknown, all?: unknown) => retryCommand(d, arg, all)),
    vscode.commands.registerCommand(COMMANDS.enhanceWithOptions, (arg?: unknown) => enhanceWithOptionsCommand(d, arg)),
    vscode.commands.registerCommand(COMMANDS.resume, (arg?: unknown) => resumeCommand(d, arg)),
    vscode.commands.registerCommand(COMMANDS.cancel, (arg?: unknown) => cancelCommand(d, arg)),
    vscode.commands.registerCommand(COMMANDS.cancelAll, () => {
      for (const j of jobs.jobs()) jobs.cancel(j.id);
    }),
    vscode.commands.registerCommand(COMMANDS.showMonitor, (arg?: unknown) => {
      MonitorPanel.createOrShow(context, { jobId: jobIdOf(arg, d) });
    }),
    vscode.commands.registerCommand(COMMANDS.refreshVideos, () => tree.rescan()),
    vscode.commands.registerCommand(COMMANDS.revealOutput, async (arg?: unknown) => {
      const out = outputOf(arg, d);
      if (out) await revealFile(vscode.Uri.file(out));
    }),
    vscode.commands.registerCommand(COMMANDS.openOutput, async (arg?: unknown) => {
      const out = outputOf(arg, d);
      if (out) await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(out));
    }),
    vscode.commands.registerCommand(COMMANDS.compare, (arg?: unknown) => compareCommand(d, arg)),
    vscode.commands.registerCommand(COMMANDS.openLog, () => log.show(true)),
    vscode.commands.registerCommand(COMMANDS.openSettings, () =>
      vscode.commands.executeCommand('workbench.action.openSettings', '@ext:huaju4k.huaju4k'),
    ),
    vscode.commands.registerCommand(COMMANDS.installFfmpeg, () =>
      vscode.env.openExternal(vscode.Uri.parse('https://ffmpeg.org/download.html')),
    ),
  ];
}

/** Before/after of a finished output: its source and the result, side by side in the compare view. */
async function compareCommand(d: CommandDeps, arg?: unknown) {
  const source = isJobNode(arg) ? arg.uri.fsPath : toUri(arg)?.fsPath;
  const output = outputOf(arg, d);
  if (!source || !output) {
    await d.ui.show('info', 'huaju4k: there is no finished output to compare yet; enhance the video first.');
    return undefined;
  }
  const s = settingsFor(vscode.Uri.file(source));
  const tools = {
    ffmpeg: s.ffmpegPath || process.env.HUAJU4K_FFMPEG || 'ffmpeg',
    ffprobe: s.ffprobePath || process.env.HUAJU4K_FFPROBE || 'ffprobe',
    log: d.log,
  };
  try {
    return await openCompare(d.context.extensionUri, tools, source, output);
  } catch (err) {
    await d.ui.show('error', (err as Error).message);
    return undefined;
  }
}

function outputFromArgs(args: string[]): string | undefined {
  const i = args.indexOf('-o');
  return i >= 0 ? args[i + 1] : undefined;
}

/** The job a command argument names: a job id (notifications, status bar) or a video (tree, explorer). */
function jobIdOf(arg: unknown, d: CommandDeps): string | undefined {
  if (isJobNode(arg)) return d.jobs.get(arg.jobId)?.id;
  if (typeof arg === 'string') return d.jobs.get(arg)?.id;
  const uri = toUri(arg);
  return uri ? d.jobs.latestFor(uri.fsPath)?.id : undefined;
}

function outputOf(arg: unknown, d: CommandDeps): string | undefined {
  if (isJobNode(arg)) return existsSync(arg.output) ? arg.output : undefined;
  const uri = toUri(arg);
  if (!uri) return undefined;
  const input = uri.fsPath;
  const job = d.jobs.latestFor(input);
  const candidates = [job?.output, d.journal.byInput(input)?.output, defaultOutputPath(input)];
  return candidates.find((p): p is string => !!p && existsSync(p));
}
