import * as path from 'node:path';
import * as vscode from 'vscode';
import { COMMANDS } from '../commands-ids';
import { batchEndText, batchProgress, batchRetryable, failuresToTell, latestPerOutput } from './batch-progress';
import { describeFailure, FAILURE_ACTION_LABELS, type FailureAction } from './failure-actions';
import type { JobManager } from './job-manager';
import { isFinished, type JobSnapshot, progressText } from './job-state';
import { JOBS_VIEW_ID } from './jobs-tree';

/** A user-facing message, kept (bounded) so tests and "what happened" diagnostics can read them back. */
export interface ShownMessage {
  severity: 'info' | 'warning' | 'error';
  text: string;
  actions: string[];
  at: number;
}

const SHOW_JOBS = 'Show Jobs';
const RETRY_FAILED = 'Retry Failed';

/**
 * Everything the user sees of a job: one cancellable progress notification per batch, one status bar item,
 * and a message with actions when it ends.
 */
export class JobUi implements vscode.Disposable {
  private readonly status: vscode.StatusBarItem;
  /** Jobs of the progress notification open now, if one is. */
  private batch: string[] | undefined;
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
    if (isFinished(job.phase)) return;
    if (!this.batch) {
      this.batch = [job.id];
      void this.batchNotification(this.batch);
    } else if (!this.batch.includes(job.id)) {
      this.batch.push(job.id);
    }
  }

  /**
   * One cancellable progress notification for every job started while it is open (a folder of 20 videos is one
   * notification, not 20). Cancel cancels the whole batch; it closes when every job of it has ended.
   */
  private batchNotification(batch: string[]): Thenable<void> {
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'huaju4k: enhancing', cancellable: true },
      (progress, token) =>
        new Promise<void>((resolve) => {
          let lastPct = 0;
          const subs: vscode.Disposable[] = [];
          const told = new Set<string>();
          const tick = () => {
            const jobs = batch.map((id) => this.jobs.get(id)).filter((j) => j !== undefined);
            for (const failed of failuresToTell(jobs, told)) void this.announce(failed);
            const now = batchProgress(jobs, this.jobs.queuePaused);
            if (now.over) {
              for (const s of subs) s.dispose();
              this.batch = undefined;
              resolve();
              void this.announceBatch(jobs);
              return;
            }
            progress.report({ message: now.message, increment: Math.max(0, now.percent - lastPct) });
            lastPct = Math.max(lastPct, now.percent);
          };
          subs.push(
            this.jobs.onDidChangeJob((job) => {
              if (batch.includes(job.id)) tick();
            }),
            this.jobs.onDidChangeQueue(tick),
          );
          token.onCancellationRequested(() => {
            for (const id of batch) this.jobs.cancel(id);
          });
          tick();
        }),
    );
  }

  /** A single job ends with its own message; a batch with one summary (failures listed in the Jobs view). */
  private async announceBatch(all: JobSnapshot[]): Promise<void> {
    const jobs = latestPerOutput(all);
    if (jobs.length === 0) return;
    if (jobs.length === 1) return this.announce(jobs[0]);
    const failed = batchRetryable(jobs);
    const severity = jobs.every((j) => j.phase === 'done') ? 'info' : 'warning';
    const actions = failed.length > 0 ? [SHOW_JOBS, RETRY_FAILED] : [SHOW_JOBS];
    const choice = await this.show(severity, batchEndText(jobs), actions);
    if (choice === SHOW_JOBS) await vscode.commands.executeCommand(`${JOBS_VIEW_ID}.focus`);
    if (choice === RETRY_FAILED) await vscode.commands.executeCommand(COMMANDS.retry, failed);
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
