import * as vscode from 'vscode';
import { type CommandDeps, toUri } from '../command-args';
import { COMMANDS } from '../commands-ids';
import { outputOf } from '../jobs/job-commands';
import { isJobNode } from '../jobs/jobs-tree';
import { settingsFor } from '../settings-reader';
import { openCompare } from './compare-panel';

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

export function registerCompareCommands(d: CommandDeps): vscode.Disposable[] {
  return [vscode.commands.registerCommand(COMMANDS.compare, (arg?: unknown) => compareCommand(d, arg))];
}
