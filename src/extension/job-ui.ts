import * as path from 'node:path';
import * as vscode from 'vscode';
import { COMMANDS } from './commands-ids';
import { describeFailure, FAILURE_ACTION_LABELS, type FailureAction } from './failure-actions';
import type { JobManager } from './job-manager';
import { isFinished, type JobSnapshot, percentOf, progressText } from './job-state';

/** A user-facing message, kept (bounded) so tests and "what happened" diagnostics can read them back. */
export interface ShownMessage {
  severity: 'info' | 'warning' | 'error';
  text: string;
  actions: string[];
  at: number;
}

/**
 * Everything the user sees of a job: a cancellable progress notification per job, one status bar item,
 * and a message with actions when it ends.
 */
export class JobUi implements vscode.Disposable {
  private readonly status: vscode.StatusBarItem;
  private readonly open = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  readonly messages: ShownMessage[] = [];

  constructor(
    private readonly jobs: JobManager,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.status = vscode.window.createStatusBarItem('huaju4k.status', vscode.StatusBarAlignment.Left, 50);
    this.status.name = 'huaju4k job';
    this.status.command = COMMANDS.showMonitor;
    this.disposables.push(
      this.status,
      jobs.onDidChangeJob((job) => this.onJob(job)),
    );
  }

  /** Shows a message, records it, and runs the chosen action. */
  async show(severity: ShownMessage['severity'], text: string, actions: string[] = []): Promise<string | undefined> {
    this.messages.push({ severity, text, actions, at: Date.now() });
    if (this.messages.length > 50) this.messages.shift();
    this.log[severity === 'warning' ? 'warn' : severity](`message: ${text}`);
    const fn =
      severity === 'error'
        ? vscode.window.showErrorMessage
        : severity === 'warning'
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    return fn(text, ...actions);
  }

  private onJob(job: JobSnapshot): void {
    this.updateStatus();
    if (!this.open.has(job.id) && !isFinished(job.phase)) {
      this.open.add(job.id);
      void this.progressNotification(job.id);
    }
  }

  private progressNotification(id: string): Thenable<void> {
    const first = this.jobs.get(id);
    const name = first ? path.basename(first.input) : id;
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `huaju4k: enhancing ${name}`, cancellable: true },
      (progress, token) =>
        new Promise<void>((resolve) => {
          let lastPct = 0;
          const report = (job: JobSnapshot) => {
            const pct = percentOf(job);
            const message = job.phase === 'queued' ? `queued #${this.jobs.queuePosition(id)}` : progressText(job);
            progress.report({ message, increment: Math.max(0, pct - lastPct) });
            lastPct = Math.max(lastPct, pct);
          };
          const sub = this.jobs.onDidChangeJob((job) => {
            if (job.id !== id) return;
            if (isFinished(job.phase)) {
              sub.dispose();
              this.open.delete(id);
              resolve();
              void this.announce(job);
            } else {
              report(job);
            }
          });
          token.onCancellationRequested(() => this.jobs.cancel(id));
          const now = this.jobs.get(id);
          if (now && isFinished(now.phase)) {
            sub.dispose();
            resolve();
          } else if (now) {
            report(now);
          }
        }),
    );
  }

  private async announce(job: JobSnapshot): Promise<void> {
    if (job.phase === 'done') {
      const choice = await this.show(
        'info',
        `huaju4k: enhanced ${path.basename(job.input)} → ${path.basename(job.output)}`,
        ['Reveal output', 'Open'],
      );
      if (choice === 'Reveal output')
        await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(job.output));
      if (choice === 'Open') await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(job.output));
      return;
    }
    const msg = describeFailure(job);
    const labels = msg.actions.map((a) => FAILURE_ACTION_LABELS[a]);
    const choice = await this.show(msg.severity, msg.text, labels);
    const action = msg.actions.find((a) => FAILURE_ACTION_LABELS[a] === choice);
    if (action) await this.run(action, job, msg.settingsQuery);
  }

  private async run(action: FailureAction, job: JobSnapshot, settingsQuery?: string): Promise<void> {
    switch (action) {
      case 'installFfmpeg':
        await vscode.env.openExternal(vscode.Uri.parse('https://ffmpeg.org/download.html'));
        return;
      case 'openSettings':
        await vscode.commands.executeCommand('workbench.action.openSettings', settingsQuery ?? 'huaju4k');
        return;
      case 'resume':
        await vscode.commands.executeCommand(COMMANDS.resume, vscode.Uri.file(job.output));
        return;
      case 'retry':
        await vscode.commands.executeCommand(COMMANDS.enhance, vscode.Uri.file(job.input));
        return;
      case 'showLog':
        this.log.show(true);
        return;
    }
  }

  private updateStatus(): void {
    const all = this.jobs.jobs();
    const running = all.filter((j) => j.phase === 'running');
    const queued = all.filter((j) => j.phase === 'queued').length;
    if (running.length === 0 && queued === 0) {
      this.status.hide();
      return;
    }
    const lead = running[0];
    const more = running.length > 1 ? ` (+${running.length - 1} running)` : '';
    const wait = queued > 0 ? ` (+${queued} queued)` : '';
    this.status.text = lead ? `$(sync~spin) 4K ${progressText(lead)}${more}${wait}` : `$(watch) 4K${wait}`;
    this.status.tooltip = lead
      ? `huaju4k: ${path.basename(lead.input)} → ${path.basename(lead.output)}\nClick to open the monitor.`
      : 'huaju4k: jobs waiting';
    this.status.show();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
