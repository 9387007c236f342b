import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { JobJournal, JobRecord } from './job-journal';
import type { JobManager } from './job-manager';
import { defaultOutputPath, isEnhanceable, VIDEO_GLOB } from './video-files';
import type { ProbeCache } from './video-probe';
import { describeVideo, sortVideos, type VideoFacts } from './videos-model';

export const VIDEOS_VIEW_ID = 'huaju4k.videos';

/** A workspace video in the tree (the provider's element type). */
export interface VideoNode {
  uri: vscode.Uri;
  relPath: string;
}

/**
 * Workspace videos with their enhancement state. Files are found with `findFiles` (which applies `files.exclude`),
 * kept current by a file watcher, and described by the pure `describeVideo`.
 */
export class VideosTreeProvider implements vscode.TreeDataProvider<VideoNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<VideoNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private nodes: VideoNode[] | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  private interrupted = new Map<string, JobRecord>();

  constructor(
    private readonly jobs: JobManager,
    private readonly journal: JobJournal,
    private readonly probes: ProbeCache,
    private readonly canProbe: () => boolean,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(VIDEO_GLOB);
    this.disposables.push(
      watcher,
      watcher.onDidCreate(() => this.rescan()),
      watcher.onDidDelete((uri) => {
        this.probes.invalidate(uri.fsPath);
        this.rescan();
      }),
      watcher.onDidChange((uri) => {
        this.probes.invalidate(uri.fsPath);
        this.refresh();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.rescan()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('files.exclude')) this.rescan();
      }),
      jobs.onDidChangeJob(() => this.refresh()),
    );
  }

  /** Re-lists the files (create/delete/rename, exclude changes). Debounced. */
  rescan(): void {
    this.nodes = undefined;
    this.refresh();
  }

  /** Re-describes the items (state or metadata changed). Debounced so progress events do not flood the view. */
  refresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.changed.fire(undefined);
    }, 150);
  }

  /** Interrupted jobs (remembered and found on disk), so a checkpoint from a CLI run shows as well. */
  setInterrupted(records: JobRecord[]): void {
    this.interrupted = new Map(records.map((r) => [r.input, r]));
    this.refresh();
  }

  async getChildren(element?: VideoNode): Promise<VideoNode[]> {
    if (element) return [];
    if (!this.nodes) this.nodes = await this.scan();
    await vscode.commands.executeCommand('setContext', 'huaju4k.noVideos', this.nodes.length === 0);
    return this.nodes;
  }

  getTreeItem(node: VideoNode): vscode.TreeItem {
    const view = describeVideo(this.facts(node));
    const item = new vscode.TreeItem(view.label, vscode.TreeItemCollapsibleState.None);
    item.id = node.uri.toString();
    item.resourceUri = node.uri;
    item.description = view.description;
    item.tooltip = view.tooltip;
    item.contextValue = view.contextValue;
    item.iconPath = new vscode.ThemeIcon(view.icon);
    item.command = { command: 'vscode.open', title: 'Open', arguments: [node.uri] };
    return item;
  }

  getParent(): undefined {
    return undefined;
  }

  /** The facts behind one item; also used by tests in the extension host through the extension's API. */
  facts(node: VideoNode): VideoFacts {
    const file = node.uri.fsPath;
    const job = this.jobs.latestFor(file);
    const remembered = this.journal.byInput(file);
    const checkpoint = this.interrupted.get(file);
    const record = checkpoint && remembered?.phase !== 'failed' ? { ...remembered, ...checkpoint } : remembered;
    const output = job?.output ?? record?.output ?? defaultOutputPath(file);
    return {
      path: file,
      relPath: node.relPath,
      meta: this.canProbe() ? this.probes.get(file) : undefined,
      job,
      queuePosition: job ? this.jobs.queuePosition(job.id) : undefined,
      record,
      output: existsSync(output) ? output : undefined,
    };
  }

  async nodesNow(): Promise<VideoNode[]> {
    return this.getChildren();
  }

  private async scan(): Promise<VideoNode[]> {
    const found = await vscode.workspace.findFiles(VIDEO_GLOB, undefined, 5000);
    const nodes = found
      .filter((uri) => uri.scheme === 'file' && isEnhanceable(uri.fsPath))
      .map((uri) => ({ uri, relPath: vscode.workspace.asRelativePath(uri, false) }));
    return sortVideos(nodes);
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
