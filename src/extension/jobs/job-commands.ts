import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { workDirFor } from '../../protocol/output-name';
import { type CommandDeps, refuseIfUntrusted, toUri } from '../command-args';
import { COMMANDS } from '../commands-ids';
import { listEngineJobs } from '../engine/engine-jobs';
import { enqueue } from '../enhance/enqueue';
import { MonitorPanel } from '../monitor';
import { revealFile } from '../reveal';
import { defaultOutputPath, finishedOutputOf } from '../videos/video-files';
import type { JobJournal } from './job-journal';
import { isFinished } from './job-state';
import { isJobNode } from './jobs-tree';
import { findResumable, listResumable, mergeResumable, type ResumableJob, resumeArgs, resumePickItem } from './resume';

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

/** A job's own commands: resume, retry, cancel, its monitor and its output. */
export function registerJobCommands(d: CommandDeps): vscode.Disposable[] {
  const { jobs, context } = d;
  return [
    vscode.commands.registerCommand(COMMANDS.retry, (arg?: unknown, all?: unknown) => retryCommand(d, arg, all)),
    vscode.commands.registerCommand(COMMANDS.resume, (arg?: unknown) => resumeCommand(d, arg)),
    vscode.commands.registerCommand(COMMANDS.cancel, (arg?: unknown) => cancelCommand(d, arg)),
    vscode.commands.registerCommand(COMMANDS.cancelAll, () => {
      for (const j of jobs.jobs()) jobs.cancel(j.id);
    }),
    vscode.commands.registerCommand(COMMANDS.showMonitor, (arg?: unknown) => {
      MonitorPanel.createOrShow(context, { jobId: jobIdOf(arg, d) });
    }),
    vscode.commands.registerCommand(COMMANDS.revealOutput, async (arg?: unknown) => {
      const out = outputOf(arg, d);
      if (out) await revealFile(vscode.Uri.file(out));
    }),
    vscode.commands.registerCommand(COMMANDS.openOutput, async (arg?: unknown) => {
      const out = outputOf(arg, d);
      if (out) await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(out));
    }),
  ];
}

/** The job a command argument names: a job id (notifications, status bar) or a video (tree, explorer). */
function jobIdOf(arg: unknown, d: CommandDeps): string | undefined {
  if (isJobNode(arg)) return d.jobs.get(arg.jobId)?.id;
  if (typeof arg === 'string') return d.jobs.get(arg)?.id;
  const uri = toUri(arg);
  return uri ? d.jobs.latestFor(uri.fsPath)?.id : undefined;
}

export function outputOf(arg: unknown, d: CommandDeps): string | undefined {
  if (isJobNode(arg)) return existsSync(arg.output) ? arg.output : undefined;
  const uri = toUri(arg);
  if (!uri) return undefined;
  const input = uri.fsPath;
  const job = d.jobs.latestFor(input);
  const candidates = [job?.output, d.journal.byInput(input)?.output, finishedOutputOf(input), defaultOutputPath(input)];
  return candidates.find((p): p is string => !!p && existsSync(p));
}
