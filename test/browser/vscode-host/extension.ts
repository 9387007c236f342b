// A throwaway extension for run.mjs: opens the real MonitorPanel in a real VS Code (code-server) and plays the
// recorded engine run into it, the way the job manager will.
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { MonitorPanel } from '../../../src/extension/monitor/index';
import { type EngineEvent, parseEngineEvent } from '../../../src/protocol/engine-events';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('huaju4k monitor check', { log: true });
  const panel = MonitorPanel.createOrShow(
    context,
    {},
    {
      log,
      controls: {
        cancel: (id) => log.info(`cancel ${id}`),
        revealOutput: (id) => log.info(`reveal ${id}`),
        openLog: () => log.show(),
      },
    },
  );
  const run = readFileSync(process.env.HUAJU4K_MONITOR_RUN ?? '', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => parseEngineEvent(l))
    .filter((e): e is EngineEvent => e !== undefined);
  let i = 0;
  const timer = setInterval(() => {
    if (i >= run.length) clearInterval(timer);
    else panel.postEngineEvent('job-check', run[i++]);
  }, 250);
  panel.setBackends([
    {
      name: 'studio-hub',
      url: 'http://127.0.0.1:8765',
      reachable: true,
      subscribers: 3,
      fps: 29.97,
      relay: 'connected',
    },
  ]);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });
}

export function deactivate(): void {}
