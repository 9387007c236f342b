import * as vscode from 'vscode';
import { type EnhanceSettings, readSettings } from './settings';

export const CONFIG_SECTION = 'huaju4k';

/** Settings for a file (resource-scoped, so folder settings apply). */
export function settingsFor(uri?: vscode.Uri): EnhanceSettings {
  const cfg = vscode.workspace.getConfiguration(CONFIG_SECTION, uri);
  return readSettings((key) => cfg.get(key));
}
