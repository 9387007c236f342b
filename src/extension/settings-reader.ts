import * as vscode from 'vscode';
import { type EnhanceSettings, LEGACY_SETTING_KEYS, readSettings } from './settings';

export const CONFIG_SECTION = 'huaju4k';

/**
 * Settings for a file (resource-scoped, so folder settings apply), through `cfg.get` (which leaves out an untrusted
 * workspace's restricted settings). A renamed setting's new key counts only where the user set it: `cfg.get` would
 * answer its declared default and hide a value still kept under the old key (read raw: it is no longer declared).
 */
export function settingsFor(uri?: vscode.Uri): EnhanceSettings {
  const cfg = vscode.workspace.getConfiguration(CONFIG_SECTION, uri);
  return readSettings((key) => {
    if (!(key in LEGACY_SETTING_KEYS)) return cfg.get(key);
    const set = cfg.inspect(key);
    const isSet = [set?.globalValue, set?.workspaceValue, set?.workspaceFolderValue].some((v) => v !== undefined);
    return isSet ? cfg.get(key) : undefined;
  });
}
