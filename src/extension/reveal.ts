import * as vscode from 'vscode';

/**
 * Shows a file in the OS file manager on a local desktop; in VS Code for the Web or a remote window (where the OS's
 * file manager is on another machine and `revealFileInOS` does not exist) in the Explorer view instead.
 */
export async function revealFile(uri: vscode.Uri): Promise<void> {
  const local = vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName;
  const commands = local ? ['revealFileInOS', 'revealInExplorer'] : ['revealInExplorer'];
  const available = new Set(await vscode.commands.getCommands(true));
  const command = commands.find((c) => available.has(c)) ?? 'revealInExplorer';
  await vscode.commands.executeCommand(command, uri);
}
