import * as vscode from 'vscode';
import type { BackendView } from '../../hub/client';
import { debounced } from '../debounce';
import type { BackendRegistry } from './backend-registry';
import { presentRow } from './backend-rows';
import { backendTreeRow, type TreeRow } from './tree-rows';

export const BACKENDS_VIEW_ID = 'huaju4k.backends';

/** An element of the Backends tree: a row, and for a backend's own row the client view behind it. */
export interface BackendNode {
  row: TreeRow;
  /** Set on top rows only. */
  backend?: BackendView;
}

const COLLAPSE = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
} as const;

/**
 * The Backends view: one row per configured backend (reachable/unreachable/unauthorized, subscribers, fps, relay)
 * with detail rows under it. Re-rendered on every registry change, debounced so polls of many backends coalesce.
 */
export class BackendsTreeProvider implements vscode.TreeDataProvider<BackendNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<BackendNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: { dispose(): void };

  constructor(private readonly registry: BackendRegistry) {
    this.subscription = registry.onDidChange(() => this.refresh());
  }

  /** Debounced: a burst of changes redraws the view once. */
  readonly refresh = debounced(() => this.changed.fire(undefined));

  /** Top nodes as the tree shows them now (also used by the e2e suite through the extension's API). */
  topNodes(): BackendNode[] {
    return this.registry.views().map((backend) => ({ row: backendTreeRow(backend), backend }));
  }

  getChildren(element?: BackendNode): BackendNode[] {
    if (!element) return this.topNodes();
    return (element.row.children ?? []).map((row) => ({ row }));
  }

  getTreeItem(node: BackendNode): vscode.TreeItem {
    const p = presentRow(node.row, node.backend);
    const item = new vscode.TreeItem(p.label, COLLAPSE[p.collapsible]);
    item.id = p.id;
    item.description = p.description;
    item.tooltip = p.tooltip;
    item.contextValue = p.contextValue;
    item.iconPath = new vscode.ThemeIcon(p.icon, p.colorId ? new vscode.ThemeColor(p.colorId) : undefined);
    return item;
  }

  dispose(): void {
    this.refresh.cancel();
    this.subscription.dispose();
    this.changed.dispose();
  }
}
