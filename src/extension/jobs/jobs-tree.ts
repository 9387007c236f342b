import * as vscode from 'vscode';
import { debounced } from '../debounce';
import type { JobHistory } from './job-history';
import type { JobManager } from './job-manager';
import { isFinished, type JobSnapshot } from './job-state';
import { activeRow, elsewhereRow, historyRow, type JobRow, type RangeRow, rangeRows } from './jobs-model';

export const JOBS_VIEW_ID = 'huaju4k.jobs';

/** A group ("Queue", "History") or one job in it. `uri` is the job's input, so the video commands accept a row. */
export type JobsNode =
  | { kind: 'group'; group: 'queue' | 'history' }
  | { kind: 'job'; row: JobRow; uri: vscode.Uri; jobId: string; output: string }
  | { kind: 'range'; row: RangeRow };

export function isJobNode(v: unknown): v is Extract<JobsNode, { kind: 'job' }> {
  return typeof v === 'object' && v !== null && (v as JobsNode).kind === 'job';
}

/**
 * The Jobs view: the queue in the order it will run (running first), then the history of finished jobs of this
 * workspace, newest first (kept across reloads in workspace storage).
 */
export class JobsTreeProvider implements vscode.TreeDataProvider<JobsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<JobsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly jobs: JobManager,
    private readonly history: JobHistory,
  ) {
    this.disposables.push(
      jobs.onDidChangeJob(() => this.refresh()),
      jobs.onDidChangeQueue(() => this.refresh()),
      history.onDidChange(() => this.refresh()),
    );
  }

  /** The view, and the history fed with every job that ends. */
  register(): vscode.Disposable[] {
    const view = vscode.window.createTreeView<JobsNode>(JOBS_VIEW_ID, { treeDataProvider: this, canSelectMany: true });
    const record = this.jobs.onDidChangeJob((j) => {
      if (isFinished(j.phase)) void this.history.add(j);
    });
    return [this, view, record];
  }

  /** "name · description" of each row of a group, as the view shows it now (for tests and diagnostics). */
  rowTexts(group: 'queue' | 'history'): string[] {
    return this.getChildren({ kind: 'group', group }).map((n) =>
      n.kind === 'job' ? `${n.row.label} · ${n.row.description}` : '',
    );
  }

  /** Debounced: progress events would otherwise redraw the view for every frame. */
  readonly refresh = debounced(() => this.changed.fire(undefined));

  getChildren(element?: JobsNode): JobsNode[] {
    if (!element)
      return [
        { kind: 'group', group: 'queue' },
        { kind: 'group', group: 'history' },
      ];
    if (element.kind === 'job') return this.rangesOf(element.jobId).map((row) => ({ kind: 'range', row }));
    if (element.kind !== 'group') return [];
    return (element.group === 'queue' ? this.queueRows() : this.history.all().map(historyRow)).map(toNode);
  }

  /** Running jobs, then the waiting ones in the order they will start. */
  queueRows(): JobRow[] {
    const paused = this.jobs.queuePaused;
    const running = this.jobs.jobs().filter((j) => j.phase === 'running');
    const waiting = this.jobs
      .queuedIds()
      .map((id) => this.jobs.get(id))
      .filter((j): j is JobSnapshot => j !== undefined && !isFinished(j.phase));
    return [
      ...running.map((j) => activeRow(j, 0, paused)),
      ...this.jobs.runningElsewhere().map(elsewhereRow),
      ...waiting.map((j, i) => activeRow(j, i + 1, paused)),
    ];
  }

  /** A running split job's ranges (none for other jobs). */
  private rangesOf(jobId: string): RangeRow[] {
    const job = this.jobs.get(jobId);
    return job ? rangeRows(job) : [];
  }

  getTreeItem(node: JobsNode): vscode.TreeItem {
    if (node.kind === 'group') return this.groupItem(node.group);
    if (node.kind === 'range') return rangeItem(node.row);
    const r = node.row;
    const split = this.rangesOf(node.jobId).length > 0;
    const item = new vscode.TreeItem(
      r.label,
      split ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
    );
    // VS Code keeps an id's collapsible state: a job that becomes split gets a new id, so its ranges show expanded.
    const prefix =
      r.contextValue === 'job.elsewhere'
        ? 'e'
        : r.contextValue.startsWith('job.running') || r.contextValue === 'job.queued'
          ? 'q'
          : 'h';
    item.id = `${prefix}:${r.id}${split ? ':ranges' : ''}`;
    item.description = r.description;
    item.tooltip = r.tooltip;
    item.contextValue = r.contextValue;
    item.iconPath = new vscode.ThemeIcon(r.icon);
    item.resourceUri = node.uri;
    return item;
  }

  private groupItem(group: 'queue' | 'history'): vscode.TreeItem {
    const n = group === 'queue' ? this.queueRows().length : this.history.all().length;
    const title = group === 'queue' ? 'Queue' : 'History';
    const item = new vscode.TreeItem(title, vscode.TreeItemCollapsibleState.Expanded);
    item.id = `group:${group}`;
    item.contextValue = `jobs.${group}`;
    const paused = group === 'queue' && this.jobs.queuePaused ? ' · paused' : '';
    item.description = `${n === 0 ? 'empty' : n}${paused}`;
    return item;
  }

  getParent(node: JobsNode): JobsNode | undefined {
    if (node.kind === 'group') return undefined;
    if (node.kind === 'range') {
      const job = this.jobs.get(node.row.jobId);
      return job ? toNode(activeRow(job, 0, this.jobs.queuePaused)) : undefined;
    }
    const queued = ['job.queued', 'job.running', 'job.elsewhere'].includes(node.row.contextValue);
    return { kind: 'group', group: queued ? 'queue' : 'history' };
  }

  dispose(): void {
    this.refresh.cancel();
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}

function toNode(row: JobRow): JobsNode {
  return { kind: 'job', row, uri: vscode.Uri.file(row.input), jobId: row.id, output: row.output };
}

function rangeItem(r: RangeRow): vscode.TreeItem {
  const item = new vscode.TreeItem(r.label, vscode.TreeItemCollapsibleState.None);
  item.id = `r:${r.id}`;
  item.description = r.description;
  item.tooltip = r.tooltip;
  item.contextValue = r.contextValue;
  item.iconPath = new vscode.ThemeIcon(r.icon);
  return item;
}
