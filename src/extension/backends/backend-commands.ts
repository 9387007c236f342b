import * as vscode from 'vscode';
import { COMMANDS } from '../commands-ids';
import { CONFIG_SECTION } from '../settings-reader';
import {
  BACKENDS_SETTING,
  type BackendConfig,
  normalizeBackendUrl,
  tokenSecretKey,
  validateBackendName,
  withBackend,
  withoutBackend,
} from './backend-config';
import type { BackendRegistry, ProbeOutcome } from './backend-registry';
import { backendNameOf, describeProbe } from './backend-rows';

export interface BackendCommandDeps {
  secrets: vscode.SecretStorage;
  registry: BackendRegistry;
  log: vscode.LogOutputChannel;
  showPreview: (name: string) => Promise<void>;
}

/** What scripts and tests may pass to Add Backend instead of answering the prompts. */
export interface AddBackendArgs {
  name: string;
  url: string;
  token?: string;
}

function isAddArgs(arg: unknown): arg is AddBackendArgs {
  const a = arg as Partial<AddBackendArgs> | undefined;
  return typeof a === 'object' && a !== null && typeof a.name === 'string' && typeof a.url === 'string';
}

/** The setting is machine-scoped (a workspace must not redirect a stored token), so it lives in user settings. */
async function writeSetting(update: (raw: unknown) => unknown[]): Promise<void> {
  const cfg = vscode.workspace.getConfiguration(CONFIG_SECTION);
  const raw = cfg.inspect<unknown>(BACKENDS_SETTING)?.globalValue;
  await cfg.update(BACKENDS_SETTING, update(raw), vscode.ConfigurationTarget.Global);
}

async function storeToken(secrets: vscode.SecretStorage, name: string, token: string | undefined): Promise<void> {
  if (token) await secrets.store(tokenSecretKey(name), token);
  else await secrets.delete(tokenSecretKey(name));
}

async function promptBackend(existing: readonly string[]): Promise<AddBackendArgs | undefined> {
  const name = await vscode.window.showInputBox({
    title: 'Add Backend (1/3): name',
    prompt: 'A short name for the stream hub or blankend service',
    placeHolder: 'studio-hub',
    ignoreFocusOut: true,
    validateInput: (v) => validateBackendName(v, existing),
  });
  if (name === undefined) return undefined;
  const url = await vscode.window.showInputBox({
    title: 'Add Backend (2/3): address',
    prompt: 'HTTP address of the backend (huaju4k hub, or blankend)',
    value: 'http://127.0.0.1:8765',
    ignoreFocusOut: true,
    validateInput: (v) => {
      const r = normalizeBackendUrl(v);
      return 'error' in r ? r.error : undefined;
    },
  });
  if (url === undefined) return undefined;
  const token = await vscode.window.showInputBox({
    title: 'Add Backend (3/3): token',
    prompt: 'Bearer token (huaju4k hub --token). Leave empty when the backend has none. Stored in the OS keychain.',
    password: true,
    ignoreFocusOut: true,
  });
  if (token === undefined) return undefined;
  return { name: name.trim(), url, token };
}

export async function pickBackend(registry: BackendRegistry, title: string): Promise<string | undefined> {
  const items = registry.names.map((name) => {
    const view = registry.view(name);
    return { label: name, description: registry.config(name)?.url, detail: view?.state };
  });
  if (items.length === 0) {
    const choice = await vscode.window.showInformationMessage('No backends are configured yet.', 'Add Backend');
    if (choice) await vscode.commands.executeCommand(COMMANDS.addBackend);
    return undefined;
  }
  if (items.length === 1) return items[0].label;
  return (await vscode.window.showQuickPick(items, { title, placeHolder: 'Backend' }))?.label;
}

function showSummary(summary: ReturnType<typeof describeProbe>, actions: string[]): Thenable<string | undefined> {
  const show =
    summary.severity === 'info'
      ? vscode.window.showInformationMessage
      : summary.severity === 'warning'
        ? vscode.window.showWarningMessage
        : vscode.window.showErrorMessage;
  return show(summary.text, ...actions);
}

async function addBackend(deps: BackendCommandDeps, arg?: unknown): Promise<BackendConfig | undefined> {
  const input = isAddArgs(arg) ? arg : await promptBackend(deps.registry.names);
  if (!input) return undefined;
  const nameError = validateBackendName(input.name);
  if (nameError) throw new Error(`Add Backend: ${nameError}`);
  const url = normalizeBackendUrl(input.url);
  if ('error' in url) throw new Error(`Add Backend: ${url.error}`);
  const config: BackendConfig = { name: input.name.trim(), url: url.url };
  // The token first: the client started by the configuration change must already find it.
  await storeToken(deps.secrets, config.name, input.token?.trim() || undefined);
  await writeSetting((raw) => withBackend(raw, config));
  deps.log.info(`backend "${config.name}" added: ${config.url}`);
  return config;
}

async function removeBackend(deps: BackendCommandDeps, arg?: unknown): Promise<boolean> {
  const given = backendNameOf(arg);
  const name = given ?? (await pickBackend(deps.registry, 'Remove Backend'));
  if (!name) return false;
  if (typeof arg !== 'string') {
    const ok = await vscode.window.showWarningMessage(
      `Remove backend "${name}" and its stored token?`,
      { modal: true },
      'Remove',
    );
    if (ok !== 'Remove') return false;
  }
  await writeSetting((raw) => withoutBackend(raw, name));
  await deps.secrets.delete(tokenSecretKey(name));
  deps.log.info(`backend "${name}" removed`);
  return true;
}

async function testBackend(deps: BackendCommandDeps, arg?: unknown): Promise<ProbeOutcome | undefined> {
  const { registry, log } = deps;
  const name = backendNameOf(arg) ?? (await pickBackend(registry, 'Test Backend'));
  if (!name) return undefined;
  const url = registry.config(name)?.url ?? '';
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Testing backend "${name}"…` },
    () => registry.test(name),
  );
  const summary = describeProbe(name, url, outcome);
  log[summary.severity === 'info' ? 'info' : 'warn'](summary.text);
  const actions =
    outcome.state === 'unauthorized' ? ['Set Token'] : outcome.state === 'reachable' ? [] : ['Open Settings'];
  // Not awaited: the command answers with the outcome while the message stays up.
  void showSummary(summary, actions).then(async (choice) => {
    if (choice === 'Set Token') await vscode.commands.executeCommand(COMMANDS.setBackendToken, name);
    if (choice === 'Open Settings')
      await vscode.commands.executeCommand('workbench.action.openSettings', `${CONFIG_SECTION}.${BACKENDS_SETTING}`);
  });
  return outcome;
}

async function setBackendToken(deps: BackendCommandDeps, arg?: unknown, tokenArg?: unknown): Promise<boolean> {
  const name = backendNameOf(arg) ?? (await pickBackend(deps.registry, 'Set Backend Token'));
  if (!name) return false;
  const token =
    typeof tokenArg === 'string'
      ? tokenArg
      : await vscode.window.showInputBox({
          title: `Token for backend "${name}"`,
          prompt: 'Bearer token; leave empty to remove the stored token',
          password: true,
          ignoreFocusOut: true,
        });
  if (token === undefined) return false;
  await storeToken(deps.secrets, name, token.trim() || undefined);
  deps.log.info(`backend "${name}": token ${token.trim() ? 'stored' : 'removed'}`);
  return true;
}

async function showBackendPreview(deps: BackendCommandDeps, arg?: unknown): Promise<void> {
  const name = backendNameOf(arg) ?? (await pickBackend(deps.registry, 'Show Backend Preview'));
  if (name) await deps.showPreview(name);
}

export function registerBackendCommands(deps: BackendCommandDeps): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(COMMANDS.addBackend, (arg?: unknown) => addBackend(deps, arg)),
    vscode.commands.registerCommand(COMMANDS.removeBackend, (arg?: unknown) => removeBackend(deps, arg)),
    vscode.commands.registerCommand(COMMANDS.testBackend, (arg?: unknown) => testBackend(deps, arg)),
    vscode.commands.registerCommand(COMMANDS.refreshBackends, () => deps.registry.refresh()),
    vscode.commands.registerCommand(COMMANDS.setBackendToken, (arg?: unknown, token?: unknown) =>
      setBackendToken(deps, arg, token),
    ),
    vscode.commands.registerCommand(COMMANDS.showBackendPreview, (arg?: unknown) => showBackendPreview(deps, arg)),
  ];
}
