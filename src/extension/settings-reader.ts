import * as vscode from 'vscode';
import { type EnhanceSettings, readSettings } from './settings';

export const CONFIG_SECTION = 'huaju4k';

/**
 * Settings for a file (resource-scoped, so folder settings apply). Only what the user set is read (the most specific
 * of folder, workspace and user): `cfg.get` would answer a declared key's default, hiding a renamed setting's old key.
 */
export function settingsFor(uri?: vscode.Uri): EnhanceSettings {
  const cfg = vscode.workspace.getConfiguration(CONFIG_SECTION, uri);
  return readSettings((key) => {
    const set = cfg.inspect(key);
    return set?.workspaceFolderValue ?? set?.workspaceValue ?? set?.globalValue;
  });
}
