/**
 * The Backends feature, wired once from `activate`: settings → one status client per backend (tokens from
 * SecretStorage) → the Backends tree and the monitor's backends section; commands to add/remove/test backends,
 * set a token, refresh and preview a backend's broadcast, start/stop a recording and switch its AI core on/off; while the monitor panel is visible, each reachable
 * backend's newest broadcast frame is relayed to its row in the monitor's backends section.
 */
import * as vscode from 'vscode';
import type { MonitorBackendRow } from '../../protocol/webview-messages';
import { CONFIG_SECTION } from '../settings-reader';
import { pickBackend, registerBackendCommands } from './backend-commands';
import { BACKENDS_SETTING, backendNameOfSecretKey, parseBackendsSetting, tokenSecretKey } from './backend-config';
import { BackendFrameRelay } from './backend-frame-relay';
import { registerLiveCommands } from './backend-live-commands';
import { BackendPreviews } from './backend-preview';
import { BackendRegistry } from './backend-registry';
import { BACKENDS_VIEW_ID, BackendsTreeProvider } from './backends-tree';
import type { TreeRow } from './tree-rows';

export { BACKENDS_VIEW_ID } from './backends-tree';

export interface BackendsDeps {
  secrets: vscode.SecretStorage;
  log: vscode.LogOutputChannel;
  /** The monitor panel host (`MonitorPanel`); its backends section gets every update and, while visible, frames. */
  monitor?: BackendsMonitor;
}

/** What the backends feature needs of the monitor panel host. */
export interface BackendsMonitor {
  setBackends(rows: MonitorBackendRow[]): void;
  postBackendFrame(name: string, jpeg: Buffer, ts: number): void;
  readonly isVisible: boolean;
  onDidChangeVisibility(listener: (visible: boolean) => void): vscode.Disposable;
}

export interface BackendsFeature extends vscode.Disposable {
  /** The Backends tree's top rows as shown now (with children). */
  rows(): TreeRow[];
  /** Frames relayed to a backend's preview panel so far. */
  previewFrames(name: string): number;
}

export function registerBackends(deps: BackendsDeps): BackendsFeature {
  const { secrets, log, monitor } = deps;
  const registry = new BackendRegistry({ tokenFor: async (name) => secrets.get(tokenSecretKey(name)) });
  const tree = new BackendsTreeProvider(registry);
  const view = vscode.window.createTreeView(BACKENDS_VIEW_ID, { treeDataProvider: tree, showCollapseAll: true });
  const previews = new BackendPreviews(registry);
  const relay = monitor ? new BackendFrameRelay(registry, monitor) : undefined;

  let lastProblems = '';
  const readSetting = () => {
    const parsed = parseBackendsSetting(vscode.workspace.getConfiguration(CONFIG_SECTION).get(BACKENDS_SETTING));
    const problems = parsed.problems.join('\n');
    if (problems && problems !== lastProblems) for (const p of parsed.problems) log.warn(p);
    lastProblems = problems;
    return parsed.backends;
  };
  const configure = () => {
    const configs = readSetting();
    previews.retain(configs);
    return registry.configure(configs).catch((err: unknown) => log.error(`backends: ${(err as Error).message}`));
  };

  let monitorTimer: NodeJS.Timeout | undefined;
  const feedMonitor = () => {
    if (!monitor || monitorTimer) return;
    monitorTimer = setTimeout(() => {
      monitorTimer = undefined;
      monitor.setBackends(registry.monitorRows());
    }, 200);
  };

  const disposables: vscode.Disposable[] = [
    view,
    tree,
    previews,
    registry.onDidChange(feedMonitor),
    ...(monitor && relay ? [monitor.onDidChangeVisibility((visible) => relay.setActive(visible)), relay] : []),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${CONFIG_SECTION}.${BACKENDS_SETTING}`)) void configure();
    }),
    secrets.onDidChange((e) => {
      if (backendNameOfSecretKey(e.key) !== undefined) void registry.reloadTokens();
    }),
    ...registerBackendCommands({ secrets, registry, log, showPreview: (name) => previews.show(name) }),
    ...registerLiveCommands({ registry, log, pickBackend: (title) => pickBackend(registry, title) }),
  ];
  // Nothing polls while the setting is empty; the monitor still learns that there are no backends.
  void configure();
  relay?.setActive(monitor?.isVisible ?? false);

  return {
    rows: () => registry.treeRows(),
    previewFrames: (name) => previews.forwarded(name),
    dispose: () => {
      if (monitorTimer) clearTimeout(monitorTimer);
      for (const d of disposables) d.dispose();
      registry.dispose();
    },
  };
}
