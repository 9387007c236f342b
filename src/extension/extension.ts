import * as path from 'node:path';
import * as vscode from 'vscode';
import { type BackendsFeature, registerBackends } from './backends';
import type { CommandDeps } from './command-args';
import { registerCompareCommands } from './compare/compare-commands';
import { engineEnded, engineStillRunning, pruneEventFiles } from './engine/attached-engine';
import { registerEnhanceCommands } from './enhance/enhance-commands';
import { FarmPassword, registerFarmCommands } from './enhance/farm-commands';
import { FrameRates } from './enhance/frame-rates';
import { registerJobCommands } from './jobs/job-commands';
import { JobHistory } from './jobs/job-history';
import { JobJournal, type JobRecord } from './jobs/job-journal';
import { JobManager } from './jobs/job-manager';
import { JobUi, type ShownMessage } from './jobs/job-ui';
import { JobsTreeProvider } from './jobs/jobs-tree';
import { registerQueueCommands } from './jobs/queue-commands';
import { watchInterrupted } from './jobs/resume-offer';
import { MonitorPanel } from './monitor';
import { revealFile } from './reveal';
import { settingsFor } from './settings-reader';
import { checkFfmpeg, registerSetupCommands } from './setup-commands';
import { ProbeCache } from './videos/video-probe';
import type { VideoFacts } from './videos/videos-model';
import { VideosTreeProvider } from './videos/videos-tree';
import { createVideosView } from './videos/videos-view';

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
  /** This machine's time per frame from its finished enhances, which the As… estimate times a video by. */
  frameRates: Pick<FrameRates, 'secondsPerFrame'>;
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
  const {
    live: stillRunning,
    ended,
    queued,
    queuePaused,
  } = await journal.recoverAfterRestart((r) => engineStillRunning(r.pid, r.output), engineEnded);
  pruneEventFiles(engineStateDir(context), new Set(stillRunning.map((r) => r.eventsFile ?? '')));
  const enginePath =
    process.env.HUAJU4K_ENGINE || vscode.Uri.joinPath(context.extensionUri, 'dist', 'engine.js').fsPath;
  // Read before any job starts: a farm job's engine gets it in its environment at spawn time.
  const farmPassword = await FarmPassword.load(context.secrets);
  const jobs = new JobManager({
    enginePath,
    perDevice: settingsFor().jobsPerDevice,
    journal,
    log: (id, line, level) => log[level](`[${id}] ${line}`),
    stateDir: engineStateDir(context),
    secretEnv: (args) => farmPassword.envFor(args),
  });
  manager = jobs;
  // Finished runs teach the As… estimate this machine's time per frame (per model and provider).
  const rates = new FrameRates(context.globalState);
  context.subscriptions.push(jobs.onEngineEvent(({ jobId, event }) => rates.observe(jobId, event)));
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
    ...registerFeatureCommands({ context, jobs, journal, history, ui, tree, log, enginePath }),
    ...registerFarmCommands(farmPassword),
    vscode.workspace.onDidGrantWorkspaceTrust(() => tree.refresh()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('huaju4k.jobsPerDevice')) jobs.setPerDevice(settingsFor().jobsPerDevice);
    }),
    { dispose: () => void jobs.dispose() },
  );
  log.info(`huaju4k activated; engine ${enginePath}; workspace trusted: ${vscode.workspace.isTrusted}`);
  // A queue paused before the reload stays paused: before anything is queued again, so that nothing starts.
  if (queuePaused) jobs.pauseQueue(true);
  // Re-attached engines first, so that they count against jobs-per-device before the waiting line moves.
  for (const record of stillRunning) jobs.adopt(record);
  for (const record of queued) requeue(jobs, record, log);
  void checkFfmpeg(log);
  context.subscriptions.push(watchInterrupted(jobs, journal, enginePath, ui, tree));
  return {
    jobs,
    journal,
    history,
    jobRows: () => ({ queue: jobsTree.rowTexts('queue'), history: jobsTree.rowTexts('history') }),
    videos: async () => (await tree.nodesNow()).map((n) => tree.facts(n)),
    messages: ui.messages,
    enginePath,
    backends: { rows: () => backends.rows(), previewFrames: (name) => backends.previewFrames(name) },
    frameRates: rates,
  };
}

/** Each feature registers its own commands. */
function registerFeatureCommands(d: CommandDeps): vscode.Disposable[] {
  return [
    ...registerEnhanceCommands(d),
    ...registerJobCommands(d),
    ...registerQueueCommands(d.jobs, d.history, d.journal),
    ...registerCompareCommands(d),
    ...registerSetupCommands(d.log),
  ];
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

/** A job that waited in line before the reload waits again (its output being written by another job: logged). */
function requeue(jobs: JobManager, record: JobRecord, log: vscode.LogOutputChannel): void {
  try {
    jobs.requeue(record);
  } catch (err) {
    log.warn(`[${record.id}] not queued again after the reload: ${(err as Error).message}`);
  }
}
