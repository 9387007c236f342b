/**
 * The live commands on a backend row: Start/Stop Recording (`record/start`, `record/stop`: the file's path shown,
 * revealed when it is on this machine) and Turn AI Core On/Off (`ai/config`). A refusal is shown with what to do
 * (Set Token on 401) and returned, so scripts and tests see it too.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import type { RecordKind } from '../../protocol/hub-status';
import { COMMANDS } from '../commands-ids';
import { revealFile } from '../reveal';
import {
  BackendRefusal,
  type ControlTarget,
  type RecordingAnswer,
  recordableSources,
  setAiCore,
  startRecording,
  stopRecording,
} from './backend-control';
import type { BackendRegistry } from './backend-registry';
import { backendNameOf } from './backend-rows';

export interface LiveCommandDeps {
  registry: BackendRegistry;
  log: vscode.LogOutputChannel;
  /** Asks for a backend when a command comes from the palette. */
  pickBackend: (title: string) => Promise<string | undefined>;
}

/** What a live command returns (scripts, tests): the backend's answer, or the refusal it showed. */
export type LiveCommandResult = ({ ok: true } & Partial<RecordingAnswer>) | { ok: false; error: string };

interface RecordTarget {
  source: string;
  kind: RecordKind;
}

function isRecordTarget(v: unknown): v is RecordTarget {
  const t = v as Partial<RecordTarget> | undefined;
  return typeof t?.source === 'string' && (t.kind === 'raw' || t.kind === 'processed');
}

/** The recording a Recording child row stands for (`backend/<name>/recording/<kind>/<source>`). */
function recordingOfRow(arg: unknown, name: string): RecordTarget | undefined {
  const id = (arg as { row?: { id?: unknown } } | undefined)?.row?.id;
  const prefix = `backend/${name}/recording/`;
  if (typeof id !== 'string' || !id.startsWith(prefix)) return undefined;
  const rest = id.slice(prefix.length);
  const slash = rest.indexOf('/');
  const kind = rest.slice(0, slash);
  return slash > 0 && (kind === 'raw' || kind === 'processed') ? { kind, source: rest.slice(slash + 1) } : undefined;
}

async function targetOf(deps: LiveCommandDeps, name: string): Promise<ControlTarget> {
  const cfg = deps.registry.config(name);
  if (!cfg) throw new BackendRefusal(`No backend named "${name}" is configured.`);
  return { name, url: cfg.url, token: await deps.registry.token(name) };
}

function hubStatusOf(deps: LiveCommandDeps, name: string) {
  const snap = deps.registry.view(name)?.snapshot;
  return snap?.kind === 'huaju4k-hub' ? snap.status : undefined;
}

async function askRecordTarget(deps: LiveCommandDeps, name: string): Promise<RecordTarget | undefined> {
  const status = hubStatusOf(deps, name);
  const other = 'Other source…';
  const sources = status ? recordableSources(status) : [];
  const picked =
    sources.length === 0
      ? other
      : await vscode.window.showQuickPick([...sources, other], { title: `Start Recording on "${name}": source` });
  if (!picked) return undefined;
  const source =
    picked === other
      ? await vscode.window.showInputBox({
          title: `Start Recording on "${name}": source`,
          prompt: "The frames' source: codec:<id>, video_in:<id>, or the source a publisher's frame header names",
          ignoreFocusOut: true,
          validateInput: (v) => (v.trim() ? undefined : 'Name the source to record'),
        })
      : picked;
  if (!source) return undefined;
  if (!status?.ai?.enabled) return { source: source.trim(), kind: 'raw' };
  const kind = (await vscode.window.showQuickPick(['raw', 'processed'], {
    title: `Record ${source} as received (raw) or as the AI core made it (processed)?`,
  })) as RecordKind | undefined;
  return kind ? { source: source.trim(), kind } : undefined;
}

async function askStopTarget(deps: LiveCommandDeps, name: string): Promise<RecordTarget | undefined> {
  const active = hubStatusOf(deps, name)?.recordings ?? [];
  if (active.length === 1) return active[0];
  if (active.length === 0) {
    void vscode.window.showInformationMessage(`Backend "${name}" records nothing now.`);
    return undefined;
  }
  const items = active.map((r) => ({ label: `${r.source} (${r.kind})`, description: r.path, target: r }));
  return (await vscode.window.showQuickPick(items, { title: `Stop Recording on "${name}"` }))?.target;
}

/** Shows where the file is; offers to reveal it when it is on this machine, to copy the path otherwise. */
async function offerFile(text: string, path: string): Promise<void> {
  const local = existsSync(path) || existsSync(dirname(path));
  const action = local ? 'Reveal File' : 'Copy Path';
  const choice = await vscode.window.showInformationMessage(text, action);
  if (choice === 'Reveal File') await revealFile(vscode.Uri.file(path));
  if (choice === 'Copy Path') await vscode.env.clipboard.writeText(path);
}

async function run(
  deps: LiveCommandDeps,
  name: string,
  act: () => Promise<LiveCommandResult>,
): Promise<LiveCommandResult> {
  try {
    return await act();
  } catch (err) {
    if (!(err instanceof BackendRefusal)) throw err;
    deps.log.warn(err.message);
    const actions = err.status === 401 || err.status === 403 ? ['Set Token'] : [];
    void vscode.window.showErrorMessage(err.message, ...actions).then(async (choice) => {
      if (choice === 'Set Token') await vscode.commands.executeCommand(COMMANDS.setBackendToken, name);
    });
    return { ok: false, error: err.message };
  } finally {
    void deps.registry.refresh();
  }
}

async function startCommand(deps: LiveCommandDeps, arg?: unknown, given?: unknown): Promise<LiveCommandResult> {
  const name = backendNameOf(arg) ?? (await deps.pickBackend('Start Recording'));
  const target = name && (isRecordTarget(given) ? given : await askRecordTarget(deps, name));
  if (!name || !target) return { ok: false, error: 'cancelled' };
  return run(deps, name, async () => {
    const answer = await startRecording(await targetOf(deps, name), target.source, target.kind);
    const text = `Backend "${name}" records ${target.source} (${target.kind}) to ${answer.path}`;
    deps.log.info(text);
    void offerFile(text, answer.path ?? '');
    return { ok: true, ...answer };
  });
}

async function stopCommand(deps: LiveCommandDeps, arg?: unknown, given?: unknown): Promise<LiveCommandResult> {
  const name = backendNameOf(arg) ?? (await deps.pickBackend('Stop Recording'));
  const target =
    name && (isRecordTarget(given) ? given : (recordingOfRow(arg, name) ?? (await askStopTarget(deps, name))));
  if (!name || !target) return { ok: false, error: 'cancelled' };
  return run(deps, name, async () => {
    const answer = await stopRecording(await targetOf(deps, name), target.source, target.kind);
    const what = `${target.source} (${target.kind}) on "${name}"`;
    if (answer.path === null) {
      const text = `Recording ${what} stopped: ${answer.detail ?? 'it was not recording'}.`;
      deps.log.warn(text);
      void vscode.window.showWarningMessage(text);
      return { ok: true, ...answer };
    }
    const text = `Recorded ${answer.frames ?? '?'} frames of ${what} to ${answer.path}`;
    deps.log.info(text);
    void offerFile(text, answer.path);
    return { ok: true, ...answer };
  });
}

async function aiCommand(deps: LiveCommandDeps, enabled: boolean, arg?: unknown): Promise<LiveCommandResult> {
  const title = enabled ? 'Turn AI Core On' : 'Turn AI Core Off';
  const name = backendNameOf(arg) ?? (await deps.pickBackend(title));
  if (!name) return { ok: false, error: 'cancelled' };
  return run(deps, name, async () => {
    const target = await targetOf(deps, name);
    const ai = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `${title} on "${name}"…` },
      () => setAiCore(target, enabled),
    );
    const what = ai?.enabled ? `on: ${ai.model} on ${ai.devices.map((d) => d.id).join(', ')}` : 'off';
    const text = `Backend "${name}": AI core ${what}.`;
    deps.log.info(text);
    void vscode.window.showInformationMessage(text);
    return { ok: true };
  });
}

export function registerLiveCommands(deps: LiveCommandDeps): vscode.Disposable[] {
  const reg = vscode.commands.registerCommand;
  return [
    reg(COMMANDS.startBackendRecording, (arg?: unknown, t?: unknown) => startCommand(deps, arg, t)),
    reg(COMMANDS.stopBackendRecording, (arg?: unknown, t?: unknown) => stopCommand(deps, arg, t)),
    reg(COMMANDS.aiCoreOn, (arg?: unknown) => aiCommand(deps, true, arg)),
    reg(COMMANDS.aiCoreOff, (arg?: unknown) => aiCommand(deps, false, arg)),
  ];
}
