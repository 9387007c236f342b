import * as vscode from 'vscode';
import { COMMANDS, FARM_CONTEXT_KEY } from '../commands-ids';
import { farmSecretEnv } from '../settings';
import { CONFIG_SECTION, settingsFor } from '../settings-reader';

/** Where the farm's Redis password is kept (the OS keychain, through VS Code's SecretStorage). */
export const FARM_PASSWORD_SECRET = 'huaju4k.farm.password';

/**
 * The farm password, read from SecretStorage at activation and kept in memory while it changes, so the job manager
 * can add it to a farm job's engine environment when it spawns it (a synchronous step).
 */
export class FarmPassword implements vscode.Disposable {
  private readonly watch: vscode.Disposable;

  private constructor(
    private readonly secrets: vscode.SecretStorage,
    private value: string | undefined,
  ) {
    this.watch = secrets.onDidChange(async (e) => {
      if (e.key === FARM_PASSWORD_SECRET) this.value = await secrets.get(FARM_PASSWORD_SECRET);
    });
  }

  static async load(secrets: vscode.SecretStorage): Promise<FarmPassword> {
    return new FarmPassword(secrets, await secrets.get(FARM_PASSWORD_SECRET));
  }

  /** The secret part of a job's engine environment: `HUAJU4K_FARM_PASSWORD` for a `--farm` job, else nothing. */
  envFor(args: readonly string[]): Record<string, string> {
    return farmSecretEnv(args, this.value);
  }

  /** Stores (or, when empty, forgets) the password; the cached copy follows at once. */
  async set(password: string): Promise<void> {
    this.value = password || undefined;
    if (password) await this.secrets.store(FARM_PASSWORD_SECRET, password);
    else await this.secrets.delete(FARM_PASSWORD_SECRET);
  }

  dispose(): void {
    this.watch.dispose();
  }
}

async function setFarmPasswordCommand(password: FarmPassword): Promise<void> {
  const value = await vscode.window.showInputBox({
    title: 'huaju4k: Farm Password',
    prompt:
      "The password of the farm's Redis (requirepass). Kept in the OS keychain, given to the engine in its environment, never in settings or on a command line. Leave empty to forget it.",
    password: true,
    ignoreFocusOut: true,
  });
  if (value === undefined) return;
  await password.set(value);
  void vscode.window.showInformationMessage(
    value ? 'huaju4k: farm password stored.' : 'huaju4k: farm password removed.',
  );
}

function updateFarmContext(): void {
  void vscode.commands.executeCommand('setContext', FARM_CONTEXT_KEY, settingsFor()['farm.url'].trim() !== '');
}

/** Set Farm Password, and the context key behind Enhance on Farm's menu entries (kept in step with the setting). */
export function registerFarmCommands(password: FarmPassword): vscode.Disposable[] {
  updateFarmContext();
  return [
    password,
    vscode.commands.registerCommand(COMMANDS.setFarmPassword, () => setFarmPasswordCommand(password)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${CONFIG_SECTION}.farm.url`)) updateFarmContext();
    }),
  ];
}
