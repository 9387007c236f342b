import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import { COMMANDS } from './commands-ids';
import { settingsFor } from './settings-reader';

/** The log, the settings and ffmpeg: what a user needs before and around any job. */
export function registerSetupCommands(log: vscode.LogOutputChannel): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(COMMANDS.openLog, () => log.show(true)),
    vscode.commands.registerCommand(COMMANDS.openSettings, () =>
      vscode.commands.executeCommand('workbench.action.openSettings', '@ext:huaju4k.huaju4k'),
    ),
    vscode.commands.registerCommand(COMMANDS.installFfmpeg, () =>
      vscode.env.openExternal(vscode.Uri.parse('https://ffmpeg.org/download.html')),
    ),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('huaju4k.ffmpegPath')) void checkFfmpeg(log);
    }),
  ];
}

/** Sets `huaju4k.ffmpegMissing` (the views' welcome text offers to install it) and logs what is wrong. */
export async function checkFfmpeg(log: vscode.LogOutputChannel): Promise<void> {
  const ffmpeg = settingsFor().ffmpegPath || process.env.HUAJU4K_FFMPEG || 'ffmpeg';
  const ok = await new Promise<boolean>((resolve) =>
    execFile(ffmpeg, ['-hide_banner', '-version'], { timeout: 10000 }, (err) => resolve(!err)),
  );
  if (!ok) log.warn(`ffmpeg not usable at "${ffmpeg}": install it or set huaju4k.ffmpegPath`);
  await vscode.commands.executeCommand('setContext', 'huaju4k.ffmpegMissing', !ok);
}
