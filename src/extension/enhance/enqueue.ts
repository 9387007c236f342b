import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { workDirFor } from '../../protocol/output-name';
import type { CommandDeps } from '../command-args';
import type { JobRequest } from '../jobs/job-manager';
import type { JobUi } from '../jobs/job-ui';
import { buildEnhanceArgs, type EnhanceSettings, engineEnv, jobDevice, SettingsError } from '../settings';
import { settingsFor } from '../settings-reader';
import { defaultOutputPath } from '../videos/video-files';

const REPLACE = 'Replace';

/** The queue key of farm jobs: they run on the farm's workers, so they wait behind no local job. */
export const FARM_DEVICE = 'farm';

const OPEN_EXISTING = 'Open Existing';

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

export interface EnqueueExtra {
  output?: string;
  /** Settings to use instead of the configured ones (Enhance to 4K As…). */
  settings?: EnhanceSettings;
  resumeOf?: string[];
  replaceConfirmed?: boolean;
  /** Enhance on Farm: `--farm <huaju4k.farm.url>`; the job waits in a line of its own (it uses no local device). */
  farm?: boolean;
}

/** The input path of a video the engine can read, or undefined after telling the user why not. */
export async function localInput(ui: JobUi, uri: vscode.Uri): Promise<string | undefined> {
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
  farm: boolean,
): Promise<string[] | undefined> {
  try {
    return buildEnhanceArgs({ input, output, farm }, settings);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    const choice = await ui.show('error', err.message, ['Open settings']);
    if (choice) await vscode.commands.executeCommand('workbench.action.openSettings', `huaju4k.${err.key}`);
    return undefined;
  }
}

/** Queues one enhancement (new, or a resume with the recorded arguments); undefined when it is not started. */
export async function enqueue(d: CommandDeps, uri: vscode.Uri, extra: EnqueueExtra = {}) {
  const { ui, jobs } = d;
  const input = await localInput(ui, uri);
  if (!input) return undefined;
  const settings = extra.settings ?? settingsFor(uri);
  const args = extra.resumeOf ?? (await argsFromSettings(ui, input, extra.output, settings, extra.farm === true));
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
    device: extra.farm ? FARM_DEVICE : jobDevice(settings),
  };
  jobs.setPerDevice(settings.jobsPerDevice);
  try {
    return jobs.enqueue(request);
  } catch (err) {
    await ui.show('warning', `huaju4k: ${(err as Error).message}`);
    return undefined;
  }
}

export function outputFromArgs(args: string[]): string | undefined {
  const i = args.indexOf('-o');
  return i >= 0 ? args[i + 1] : undefined;
}
