import { execFile } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { engineEnded, engineStillRunning, pruneEventFiles } from './attached-engine';
import { type BackendsFeature, registerBackends } from './backends';
import { findInterruptedJobs, registerCommands } from './commands';
import { COMMANDS } from './commands-ids';
import { JobHistory } from './job-history';
import { JobJournal } from './job-journal';
import { JobManager } from './job-manager';
import { JobUi, type ShownMessage } from './job-ui';
import { JobsTreeProvider } from './jobs-tree';
import { MonitorPanel } from './monitor';
import { registerQueueCommands } from './queue-commands';
import { revealFile } from './reveal';
import { settingsFor } from './settings-reader';
import { ProbeCache } from './video-probe';
import type { VideoFacts } from './videos-model';
import { VideosTreeProvider } from './videos-tree';
import { createVideosView } from './videos-view';

/** What `activate` returns: used by the extension-host tests and by other extensions that drive huaju4k. */
export interface Huaju4kApi {
  jobs: JobManager;
  journal: JobJournal;
  /** Finished jobs of this workspace (the Jobs view's History), kept across reloads. */
  history: JobHistory;
  /** The Jobs view's rows as shown now: the queue in order, then the history. */
  jobRows(): { queue: string[]; history: string[] };
  /** Facts behind each item of the Videos tree, as the tree shows them now. */
  videos(): Promise<VideoFacts[]>;
  messages: readonly ShownMessage[];
  enginePath: string;
  /** The Backends tree's rows as shown now, and frames relayed to a backend preview. */
  backends: Pick<BackendsFeature, 'rows' | 'previewFrames'>;
}

let manager: JobManager | undefined;

/** Where engines append their events so that a reloaded window can re-attach to them. */
const engineStateDir = (context: vscode.ExtensionContext): string =>
  path.join(context.globalStorageUri.fsPath, 'engines');

export async function activate(context: vscode.ExtensionContext): Promise<Huaju4kApi> {
  const log = vscode.window.createOutputChannel('huaju4k', { log: true });
  const journal = new JobJournal(context.globalState);
  // Engines started before a window reload may still be running: they are re-attached below, not interrupted.
  // Those that ended while no window was open are read from their events files, once, for the history.
  const { live: stillRunning, ended } = await journal.recoverAfterRestart(
    (r) => engineStillRunning(r.pid, r.output),
    engineEnded,
  );
  pruneEventFiles(engineStateDir(context), new Set(stillRunning.map((r) => r.eventsFile ?? '')));
  const enginePath =
    process.env.HUAJU4K_ENGINE || vscode.Uri.joinPath(context.extensionUri, 'dist', 'engine.js').fsPath;
  const jobs = new JobManager({
    enginePath,
    perDevice: settingsFor().jobsPerDevice,
    journal,
    log: (id, line, level) => log[level](`[${id}] ${line}`),
    stateDir: engineStateDir(context),
  });
  manager = jobs;
  const monitor = registerMonitor(context, jobs, log);
  const ui = new JobUi(jobs, log);
  const backends = registerBackends({ secrets: context.secrets, log, monitor });
  context.subscriptions.push(backends);
  const probes = new ProbeCache(
    () => settingsFor().ffprobePath || process.env.HUAJU4K_FFPROBE || 'ffprobe',
    () => tree.refresh(),
  );
  const tree = new VideosTreeProvider(jobs, journal, probes, () => vscode.workspace.isTrusted);
  const history = new JobHistory(context.workspaceState);
  for (const job of ended) await history.add(job);
  const jobsTree = new JobsTreeProvider(jobs, history);
  context.subscriptions.push(
    log,
    ui,
    tree,
    ...createVideosView(context, tree),
    ...jobsTree.register(),
    ...registerCommands({ context, jobs, journal, history, ui, tree, log, enginePath }),
    ...registerQueueCommands(jobs, history, journal),
    vscode.workspace.onDidGrantWorkspaceTrust(() => tree.refresh()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('huaju4k.ffmpegPath')) void checkFfmpeg(log);
      if (e.affectsConfiguration('huaju4k.jobsPerDevice')) jobs.setPerDevice(settingsFor().jobsPerDevice);
    }),
    { dispose: () => void jobs.dispose() },
  );
  log.info(`huaju4k activated; engine ${enginePath}; workspace trusted: ${vscode.workspace.isTrusted}`);
  for (const record of stillRunning) jobs.adopt(record);
  void checkFfmpeg(log);
  void offerResume(journal, enginePath, ui, tree);
  context.subscriptions.push(
    jobs.onDidChangeJob((j) => {
      if (j.phase !== 'running' && j.phase !== 'queued') void refreshCheckpoints(journal, enginePath, tree);
    }),
  );
  return {
    jobs,
    journal,
    history,
    jobRows: () => ({ queue: jobsTree.rowTexts('queue'), history: jobsTree.rowTexts('history') }),
    videos: async () => (await tree.nodesNow()).map((n) => tree.facts(n)),
    messages: ui.messages,
    enginePath,
    backends: { rows: () => backends.rows(), previewFrames: (name) => backends.previewFrames(name) },
  };
}

/** The monitor panel, fed with every engine event and told how each job ended. */
function registerMonitor(context: vscode.ExtensionContext, jobs: JobManager, log: vscode.LogOutputChannel) {
  const monitor = MonitorPanel.register(context, {
    log,
    controls: {
      cancel: (id) => jobs.cancel(id),
      revealOutput: async (id) => {
        const job = jobs.get(id);
        if (job?.phase !== 'done') throw new Error('the output is not finished yet');
        await revealFile(vscode.Uri.file(job.output));
      },
      openLog: () => log.show(true),
    },
  });
  context.subscriptions.push(
    jobs.onEngineEvent(({ jobId, event }) => monitor.postEngineEvent(jobId, event)),
    // One rule for how a job ended (protocol/job-phase.ts): the monitor follows the extension, not only the events.
    jobs.onDidChangeJob((j) => {
      if (j.phase !== 'queued' && j.phase !== 'running') monitor.postJobEnded(j.id, j.phase, j.failure?.message);
    }),
  );
  return monitor;
}

/** Leaves running engines running (the next window re-attaches them); VS Code waits briefly for the promise. */
export async function deactivate(): Promise<void> {
  await manager?.dispose();
  manager = undefined;
}

async function checkFfmpeg(log: vscode.LogOutputChannel): Promise<void> {
  const ffmpeg = settingsFor().ffmpegPath || process.env.HUAJU4K_FFMPEG || 'ffmpeg';
  const ok = await new Promise<boolean>((resolve) =>
    execFile(ffmpeg, ['-hide_banner', '-version'], { timeout: 10000 }, (err) => resolve(!err)),
  );
  if (!ok) log.warn(`ffmpeg not usable at "${ffmpeg}": install it or set huaju4k.ffmpegPath`);
  await vscode.commands.executeCommand('setContext', 'huaju4k.ffmpegMissing', !ok);
}

async function refreshCheckpoints(journal: JobJournal, enginePath: string, tree: VideosTreeProvider): Promise<number> {
  const jobs = await findInterruptedJobs(journal, enginePath);
  tree.setInterrupted(jobs.map((j) => j.record));
  return jobs.length;
}

async function offerResume(
  journal: JobJournal,
  enginePath: string,
  ui: JobUi,
  tree: VideosTreeProvider,
): Promise<void> {
  if (!vscode.workspace.isTrusted) return;
  const n = await refreshCheckpoints(journal, enginePath, tree);
  if (n === 0) return;
  const text = `huaju4k: ${n === 1 ? 'one interrupted enhancement' : `${n} interrupted enhancements`} can be resumed.`;
  const choice = await ui.show('info', text, ['Resume…']);
  if (choice) await vscode.commands.executeCommand(COMMANDS.resume);
}
