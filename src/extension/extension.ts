import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('huaju4k.enhance', () => vscode.window.showInformationMessage('huaju4k: not yet')),
  );
}

export function deactivate(): void {}
