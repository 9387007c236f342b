import { statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { debounced } from '../debounce';
import type { JobJournal, JobRecord } from '../jobs/job-journal';
import type { JobManager } from '../jobs/job-manager';
import { defaultOutputPath, finishedOutputOf, isEnhanceable, VIDEO_GLOB } from './video-files';
import type { ProbeCache } from './video-probe';
import {
  describeVideo,
  folderDescription,
  groupVideos,
  matchesFilter,
  sortVideos,
  type VideoFacts,
  type VideoSort,
} from './videos-model';

export const VIDEOS_VIEW_ID = 'huaju4k.videos';

/** A workspace video in the tree. */
export interface VideoNode {
  uri: vscode.Uri;
  relPath: string;
}

/** A folder of videos (relative to its workspace folder); `uri` lets the folder batch take it as its argument. */
export interface VideoFolderNode {
  folder: true;
  uri: vscode.Uri;
  dir: string;
  /** "3 videos · 1 done · 1 unreadable" */
  description: string;
}

export type VideosTreeNode = VideoNode | VideoFolderNode;

const isFolderNode = (n: VideosTreeNode): n is VideoFolderNode => 'folder' in n;

/**
 * Workspace videos with their enhancement state. Files are found with `findFiles` (which applies `files.exclude`),
 * kept current by a file watcher, and described by the pure `describeVideo`.
 */
export class VideosTreeProvider implements vscode.TreeDataProvider<VideosTreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<VideosTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly listed = new vscode.EventEmitter<{ shown: number; total: number }>();
  /** Fires each time the videos are listed: how many the filter lets through, of how many. */
  readonly onDidList = this.listed.event;
  private nodes: VideoNode[] | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private interrupted = new Map<string, JobRecord>();
  private filterText = '';
  private sortBy: VideoSort = 'name';
  /** Folder nodes of the last listing, so `getParent` returns the same objects the tree holds. */
  private folders = new Map<string, VideoFolderNode>();

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
      // A job running in another window comes and goes with the queue's changes.
      jobs.onDidChangeQueue(() => this.refresh()),
    );
  }

  /** Re-lists the files (create/delete/rename, exclude changes). Debounced. */
  rescan(): void {
    this.nodes = undefined;
    this.refresh();
  }

  /** Re-describes the items (state or metadata changed). Debounced so progress events do not flood the view. */
  readonly refresh = debounced(() => this.changed.fire(undefined));

  /** Interrupted jobs (remembered and found on disk), so a checkpoint from a CLI run shows as well. */
  setInterrupted(records: JobRecord[]): void {
    this.interrupted = new Map(records.map((r) => [r.input, r]));
    this.refresh();
  }

  /** Narrows the tree to videos whose path or state contains every word of `text` ("" shows all). */
  setFilter(text: string): void {
    this.filterText = text.trim();
    this.refresh();
  }

  get filter(): string {
    return this.filterText;
  }

  setSort(sort: VideoSort): void {
    this.sortBy = sort;
    this.refresh();
  }

  get sort(): VideoSort {
    return this.sortBy;
  }

  async getChildren(element?: VideosTreeNode): Promise<VideosTreeNode[]> {
    if (element && !isFolderNode(element)) return [];
    if (!this.nodes) this.nodes = await this.scan();
    await vscode.commands.executeCommand('setContext', 'huaju4k.noVideos', this.nodes.length === 0);
    const groups = this.groups();
    if (element) return groups.find((g) => g.dir === element.dir)?.items.map((f) => f.node) ?? [];
    // One folder only (or none): no grouping level.
    if (groups.length === 1) return groups[0].items.map((f) => f.node);
    this.folders = new Map(groups.filter((g) => g.dir !== '.').map((g) => [g.dir, this.folderNode(g)]));
    return groups.flatMap((g) =>
      g.dir === '.' ? g.items.map((f) => f.node) : [this.folders.get(g.dir) as VideosTreeNode],
    );
  }

  /** The listed videos, filtered, grouped by folder and sorted. */
  private groups() {
    const nodes = this.nodes ?? [];
    const facts = nodes.map((node) => ({ ...this.facts(node), node }));
    const shown = facts.filter((f) => matchesFilter(f, this.filterText));
    this.listed.fire({ shown: shown.length, total: facts.length });
    return groupVideos(shown, this.sortBy);
  }

  private folderNode(g: { dir: string; items: (VideoFacts & { node: VideoNode })[] }): VideoFolderNode {
    const first = g.items[0].node.uri.fsPath;
    return {
      folder: true,
      uri: vscode.Uri.file(path.dirname(first)),
      dir: g.dir,
      description: folderDescription(g.items),
    };
  }

  getTreeItem(node: VideosTreeNode): vscode.TreeItem {
    if (isFolderNode(node)) {
      const item = new vscode.TreeItem(node.dir, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `folder:${node.uri.toString()}`;
      item.resourceUri = node.uri;
      item.iconPath = vscode.ThemeIcon.Folder;
      item.description = node.description;
      item.contextValue = 'videoFolder';
      return item;
    }
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

  getParent(node: VideosTreeNode): VideosTreeNode | undefined {
    if (isFolderNode(node)) return undefined;
    return this.folders.get(path.dirname(node.relPath));
  }

  /** The facts behind one item; also used by tests in the extension host through the extension's API. */
  facts(node: VideoNode): VideoFacts {
    const file = node.uri.fsPath;
    const job = this.jobs.latestFor(file);
    const remembered = this.journal.byInput(file);
    const checkpoint = this.interrupted.get(file);
    const record = checkpoint && remembered?.phase !== 'failed' ? { ...remembered, ...checkpoint } : remembered;
    const output = job?.output ?? record?.output ?? finishedOutputOf(file) ?? defaultOutputPath(file);
    return {
      path: file,
      relPath: node.relPath,
      meta: this.canProbe() ? this.probes.get(file) : undefined,
      job,
      elsewhere: this.jobs.runningElsewhere().some((r) => r.input === file),
      queuePosition: job ? this.jobs.queuePosition(job.id) : undefined,
      record,
      ...outputFacts(output),
    };
  }

  /** The videos the tree shows now (filtered), in its order. */
  async nodesNow(): Promise<VideoNode[]> {
    if (!this.nodes) this.nodes = await this.scan();
    return this.groups().flatMap((g) => g.items.map((f) => f.node));
  }

  private async scan(): Promise<VideoNode[]> {
    const found = await vscode.workspace.findFiles(VIDEO_GLOB, undefined, 5000);
    const nodes = found
      .filter((uri) => uri.scheme === 'file' && isEnhanceable(uri.fsPath))
      .map((uri) => ({ uri, relPath: vscode.workspace.asRelativePath(uri, false) }));
    return sortVideos(nodes);
  }

  dispose(): void {
    this.refresh.cancel();
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
    this.listed.dispose();
  }
}

function outputFacts(output: string): Pick<VideoFacts, 'output' | 'outputBytes'> {
  try {
    return { output, outputBytes: statSync(output).size };
  } catch {
    return {};
  }
}
