import { constants, existsSync, rmSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { version } from '../../package.json';
import { runAiWorkerCommand, runHubCommand } from '../hub/cli';
import { HubPublisher } from '../hub/publisher';
import { COMMANDS, commandUsage } from '../protocol/cli-options';
import { ENGINE_PROTOCOL_VERSION, type EngineEvent, ExitCode } from '../protocol/engine-events';
import { defaultOutputPath } from '../protocol/output-name';
import {
  checkpointArgv,
  type EnhanceArgs,
  parseBenchArgs,
  parseEnhanceArgs,
  parseJobsArgs,
  parseProbeArgs,
  parseResumeArgs,
  USAGE,
} from './args';
import { runBench } from './bench/bench';
import { formatJobs, listJobs, resolveWorkDir } from './checkpoint/job-list';
import { framesDone, type PixelParams, readManifest } from './checkpoint/manifest';
import { checkpointParams } from './checkpoint/open-job';
import { refuseIfRunning, runningEngine, unlockWorkDir, workDirFor } from './checkpoint/workdir';
import { children } from './children';
import { OomDegradingUpscaler } from './device/oom';
import { checkInt8Choice, pinnedPrecision } from './device/precision';
import { PROBE_COMMAND, probeProviderCommand } from './device/provider-probe';
import { VramMonitor } from './device/vram-monitor';
import { resolveBudget } from './disk/guard';
import { EngineError, PARENT_GONE } from './errors';
import { createEmitter, type Emit, type EventPayload } from './events';
import { framesInRanges } from './farm/collect-ranges';
import { describeCoordinatorModel } from './farm/coordinator-model';
import { runJob } from './farm/run-job';
import { workerCommand } from './farm/worker-command';
import { type FfmpegTools, findFfmpegTools } from './ffmpeg/ffmpeg-tools';
import { type MediaInfo, probeMedia, toProbeInfo } from './ffmpeg/probe';
import { WorkerUpscaler } from './inference/infer-worker';
import { DEFAULT_MODEL_ID } from './model/loader';
import { DEFAULT_BUFFER_MB } from './pipeline/job-plan';
import { checkExistingOutput, checkOutputPath, partialPathFor } from './pipeline/output-path';
import type { FrameStage, FrameUpscaler } from './pipeline/pipeline-types';
import { checkedOutput } from './pipeline/size-plan';
import { StageLightStage } from './stage-light/light-stage';
import { temporalFactory, temporalPixelParams, temporalSettings } from './temporal/create';

export const TILE_PAD = 12;
const CANCEL_GRACE_MS = 1500;
/** How long a cancel waits past the grace for the open segment to be closed and recorded (frame-loops.ts). */
const CANCEL_CLOSE_CAP_MS = 15_000;
const CANCEL_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * IPC when forked by the extension (the same event objects as the `--json` lines). A host that dies abruptly (a
 * window reload, VS Code killing its extension host) leaves `process.connected` true until the channel's close is
 * processed, so the next send fails with EPIPE; without a callback Node emits that as an unhandled 'error' on
 * `process` and the engine died mid-job. The callback takes the error: the 'disconnect' that follows decides
 * (a detached engine goes on, events still reach its events file; an attached one cancels).
 */
function ipcSend(): ((e: EngineEvent) => void) | undefined {
  if (typeof process.send !== 'function') return undefined;
  return (e) => {
    if (process.connected) process.send?.(e, undefined, undefined, () => undefined);
  };
}

function reportError(emit: Emit, err: unknown): number {
  if (err instanceof EngineError) {
    emit({ type: 'error', code: err.code, reason: err.reason, message: err.message, hint: err.hint });
    return err.code;
  }
  const message = err instanceof Error ? err.message : String(err);
  emit({
    type: 'error',
    code: ExitCode.failure,
    reason: 'internal',
    message,
    hint: 'please report this with the command line',
  });
  return ExitCode.failure;
}

/**
 * SIGINT/SIGTERM/SIGHUP, or a lost parent, abort the run; `cancelled` settles a grace period later, since the model may be
 * mid-frame in its worker, and not before the open segment is closed (CANCEL_CLOSE_CAP_MS at most). Started by the extension to outlive its host (HUAJU4K_DETACHED), a window reload closes
 * the IPC channel and the pipes and the job goes on (the next host re-attaches through the events file).
 */
function watchForCancel(): {
  signal: AbortSignal;
  cancelled: Promise<number>;
  stop: () => void;
  lostParent: () => void;
} {
  const abort = new AbortController();
  let settle: ((code: number) => void) | undefined;
  const cancelled = new Promise<number>((resolve) => {
    settle = resolve;
  });
  const onSignal = (reason: NodeJS.Signals | typeof PARENT_GONE) => {
    if (abort.signal.aborted) return;
    abort.abort(reason);
    // The segment encoder is spared on a cancel: the run closes the open segment at its last frame, so the cancel
    // keeps it. An engine whose parent is gone drops the open segment (errors.ts PARENT_GONE): nothing is spared.
    children.killAll('SIGKILL', { sparing: reason !== PARENT_GONE });
    setTimeout(
      () => void children.held(CANCEL_CLOSE_CAP_MS).then(() => settle?.(ExitCode.cancelled)),
      CANCEL_GRACE_MS,
    ).unref();
  };
  const detached = process.env.HUAJU4K_DETACHED === '1';
  const onDisconnect = () => (detached ? undefined : onSignal('SIGTERM'));
  if (detached) ignoreBrokenPipes();
  // SIGHUP: the terminal was closed; the same stop as SIGTERM (what is kept said, the lock released), not a silent death.
  for (const s of CANCEL_SIGNALS) process.on(s, onSignal);
  process.on('disconnect', onDisconnect);
  const stop = () => {
    for (const s of CANCEL_SIGNALS) process.off(s, onSignal);
    process.off('disconnect', onDisconnect);
  };
  return { signal: abort.signal, cancelled, stop, lostParent: () => onSignal(PARENT_GONE) };
}

/** The model's options; a resumed job keeps the tile and precision its checkpoint was written with (`pinned`). */
function modelOptions(args: EnhanceArgs, info: MediaInfo, pinned: PixelParams | undefined) {
  return {
    modelRef: args.model ?? DEFAULT_MODEL_ID,
    tile: args.tile === 'auto' && typeof pinned?.tile === 'number' ? pinned.tile : args.tile,
    pad: TILE_PAD,
    ep: args.ep,
    gpu: args.gpu,
    precision: args.precision === 'auto' && pinned ? pinnedPrecision(pinned.precision) : args.precision,
    vramBudgetBytes: args.vramBudgetBytes,
    reservedBytes: (args.bufferMb ?? DEFAULT_BUFFER_MB) * 2 ** 20,
    frame: { width: info.width, height: info.height },
    intraOpNumThreads: args.threads,
  };
}

const upscalerMissing = (): never => {
  throw new Error('the model was neither described nor opened');
};

/**
 * The coordinator of a split job (--workers, --devices, --farm) runs no frame: its model is described without a
 * session where that can be done (farm/coordinator-model.ts); undefined otherwise, and the model worker opens it.
 */
function coordinatorModel(args: EnhanceArgs, info: MediaInfo, pinned: PixelParams | undefined) {
  const splits = args.workers !== undefined || args.devices !== undefined || args.farm !== undefined;
  if (!splits || args.range || args.rangesFromStdin) return Promise.resolve(undefined);
  return describeCoordinatorModel(modelOptions(args, info, pinned));
}

/** The run's emitter: warnings known before the run follow `start` (the first event of a run). */
function runEmitter(emit: Emit, pending: EventPayload[]): Emit {
  return (e) => {
    emit(e);
    if (e.type === 'start') for (const w of pending.splice(0)) emit(w);
  };
}

function publishPair(publisher: HubPublisher) {
  return (frame: number, input: Buffer, output: Buffer) => {
    publisher.publish(input, { kind: 'raw', seq: frame });
    publisher.publish(output, { kind: 'processed', seq: frame });
  };
}

/** After a cancel: no partial output, and an honest `cancelled` event saying what is kept. */
function reportCancelled(emit: Emit, output: string | undefined): void {
  children.killAll();
  if (output) rmSync(partialPathFor(output), { force: true });
  const event = cancelledEvent(output);
  // Nothing kept: the work folder would only make the next run refuse with "an interrupted job exists".
  if (event.type === 'error' && event.framesKept === 0 && output) dropEmptyWorkDir(output);
  // The pipeline's own clean-up releases the lock; a stop that outran it (the grace period) must not leave it held.
  else if (output && runningEngine(workDirFor(output)) === process.pid) unlockWorkDir(workDirFor(output));
  emit(event);
}

/** What is refused before the model loads: an unreadable input, bad sizes, a wrong or busy output path. */
async function checkBeforeModel(args: EnhanceArgs, tools: FfmpegTools) {
  await checkReadable(args.input);
  const info = await probeMedia(tools.ffprobe, args.input);
  // Bad sizes, or a source already at the target, are refused before the model loads.
  const checked = checkedOutput(info, args);
  const output = resolve(args.output ?? defaultOutputPath(args.input));
  await checkOutputPath(args.input, output);
  await checkExistingOutput(output, { ...args, hasCheckpoint: existsSync(workDirFor(output)) });
  // A farm range runs under the engine that holds the job's lock (its coordinator) and locks only its own folder.
  if (!args.range && !args.rangesFromStdin) refuseIfRunning(workDirFor(output), output);
  return { info, checked, output };
}

/** --dark-regions soften runs after the temporal stage, on what would be encoded (stage-light/). */
function lightStages(args: EnhanceArgs, temporalStages: FrameStage[]): FrameStage[] | undefined {
  return args.darkRegions === 'soften' ? [...temporalStages, new StageLightStage()] : undefined;
}

/** Hashed into the checkpoint only when on, so jobs started without it still resume. */
const lightParams = (args: EnhanceArgs): PixelParams =>
  args.darkRegions === 'soften' ? { darkRegions: 'soften' } : {};
async function enhanceCommand(argv: string[], emitFor: (json: boolean) => Emit): Promise<number> {
  let emit = emitFor(argv.includes('--json'));
  let outputPath: string | undefined;
  const cancel = watchForCancel();
  let upscaler: WorkerUpscaler | undefined;
  // Kept so that a cancel while the model opens still closes the worker once it is up (see WorkerUpscaler.close).
  let starting: Promise<WorkerUpscaler> | undefined;
  let monitor: VramMonitor | undefined;
  let publisher: HubPublisher | undefined;
  const work = (async () => {
    const args = parseEnhanceArgs(argv);
    emit = emitFor(args.json);
    const tools = findFfmpegTools();
    const { info, checked, output } = await checkBeforeModel(args, tools);
    outputPath = output;
    // Read once: the model worker takes the tile and precision from it, the job plan the encoder threads.
    const pinned = args.resume || args.range || args.rangesFromStdin ? pinnedParams(output) : undefined;
    checkInt8Choice(args.precision, args.model ?? DEFAULT_MODEL_ID);
    const described = await coordinatorModel(args, info, pinned);
    if (!described) {
      starting = WorkerUpscaler.start(modelOptions(args, info, pinned));
      upscaler = await starting;
    }
    if (cancel.signal.aborted) throw new Error('cancelled');
    const opened = upscaler ?? described ?? upscalerMissing();
    const terminal = !args.json && !process.send;
    const pending: EventPayload[] = [
      ...(terminal && opened.summary ? [...opened.warnings, opened.summary] : opened.warnings),
      ...(checked.warning ? [checked.warning] : []),
    ].map((w) => ({ type: 'warning', ...w }));
    publisher = args.publish
      ? new HubPublisher({ url: args.publish, token: process.env.HUAJU4K_HUB_TOKEN, source: 'huaju4k' })
      : undefined;
    const runEmit = runEmitter(emit, pending);
    monitor = new VramMonitor({ budgetBytes: args.vramBudgetBytes });
    await monitor.start();
    const gpuMonitor = monitor;
    // Out of memory in a run halves the tile and retries the frame instead of failing the job.
    const degrading: FrameUpscaler = upscaler
      ? new OomDegradingUpscaler(upscaler, { onWarning: (w) => runEmit({ type: 'warning', ...w }) })
      : (described?.upscaler ?? upscalerMissing());
    // Tile reuse wraps the model; the temporal stage follows it. Their settings are hashed into the checkpoint, and
    // on resume their state is primed from the frames before the resume point (pipeline → temporal/resume-prime).
    const temporalSet = temporalSettings(args);
    // On a GPU the blend runs as a small graph on the model's provider (temporal/blend-graph.ts).
    const temporalFor = temporalFactory(degrading, { ...temporalSet, provider: opened.model.executionProvider });
    const opts = {
      ...args,
      previews: args.json || !!process.send || !!publisher,
      // With --publish every preview pair goes to a stream hub's /video_in (input as raw, output as processed).
      onPreview: publisher && publishPair(publisher),
      signal: cancel.signal,
      diskBudgetBytes: resolveBudget(args.diskBudget, info.sizeBytes),
      argv: checkpointArgv(argv, resolve(args.input), output),
      pixelSettings: { ...temporalPixelParams(temporalSet, info.width * info.height), ...lightParams(args) },
      pinned,
    };
    const { model, tile } = opened;
    const contextFor = async () => {
      const temporal = await temporalFor();
      const stages = lightStages(args, temporal.stages);
      const gpu = () => gpuMonitor.state();
      return { tools, info, checked, model, upscaler: degrading, temporal, stages, tile, emit: runEmit, gpu };
    };
    await runJob(args, argv, opts, contextFor, cancel.lostParent);
    return ExitCode.ok;
  })().catch((err: unknown) => (cancel.signal.aborted ? ExitCode.cancelled : reportError(emit, err)));
  const code = await Promise.race([work, cancel.cancelled]);
  cancel.stop();
  if (code === ExitCode.cancelled) reportCancelled(emit, outputPath);
  await monitor?.stop();
  await (upscaler ?? (await starting?.catch(() => undefined)))?.close();
  await publisher?.drain();
  await publisher?.close();
  return code;
}

/** What a cancel keeps, said as it is: the frames of finished segments (often none in the first ~10 s of video). */
function cancelledEvent(output: string | undefined): EventPayload {
  let kept = 0;
  let total = 0;
  try {
    const m = output ? readManifest(workDirFor(output)) : undefined;
    // A farm job's frames sit in its ranges until the join collects them.
    kept = m ? framesDone(m) + (m.decodedAll ? 0 : framesInRanges(workDirFor(output ?? ''))) : 0;
    total = m?.totalFrames ?? 0;
  } catch {
    kept = 0;
  }
  return {
    type: 'error',
    code: ExitCode.cancelled,
    reason: 'cancelled',
    framesKept: kept,
    message:
      kept > 0
        ? `cancelled; ${kept} of ${total} frames are kept in finished segments`
        : 'cancelled before the first segment was finished: no frames are kept, and a new run starts from the beginning',
    // Command-line advice as a hint: the CLI prints it, the extension offers its own Resume instead.
    ...(kept > 0 && { hint: 'continue with --resume (or: huaju4k resume <output>)' }),
  };
}

function dropEmptyWorkDir(output: string): void {
  const dir = workDirFor(output);
  if (!existsSync(dir) || (runningEngine(dir) ?? process.pid) !== process.pid) return;
  rmSync(dir, { recursive: true, force: true });
}

/** Writing to the stdout/stderr of a host that went away must not crash the engine (EPIPE). */
function ignoreBrokenPipes(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
}

/** A file that exists but cannot be read (permissions) gets its own message instead of ffprobe's. */
async function checkReadable(path: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // probe reports "input not found"
    throw new EngineError(
      ExitCode.badInput,
      'input-unreadable',
      `cannot read the input ${path} (${(err as NodeJS.ErrnoException).code})`,
      'check the file permissions (ls -l), or copy the file somewhere you can read it',
    );
  }
}

/**
 * A resumed job keeps what `auto` chose when it started (tile, precision, encoder threads): they change the pixels,
 * and the checkpoint only accepts the settings it was written with. Undefined when there is no readable checkpoint yet.
 */
function pinnedParams(output: string): PixelParams | undefined {
  try {
    return checkpointParams(workDirFor(output));
  } catch {
    return undefined;
  }
}

/** `huaju4k resume <output|workdir>`: the checkpoint's own enhance arguments plus --resume. */
async function resumeCommand(argv: string[], emitFor: (json: boolean) => Emit): Promise<number> {
  const emit = emitFor(argv.includes('--json'));
  let enhanceArgv: string[];
  try {
    const args = parseResumeArgs(argv);
    const dir = resolveWorkDir(args.target);
    const m = readManifest(dir);
    if (!m) {
      throw new EngineError(
        ExitCode.badInput,
        'nothing-to-resume',
        `no interrupted job at ${args.target} (looked for ${dir})`,
        'list interrupted jobs with: huaju4k jobs <folder>',
      );
    }
    // Flags go first: the stored arguments may end with `-- <input>` (an input whose name starts with a dash).
    enhanceArgv = ['--resume', ...(args.json ? ['--json'] : []), ...m.args];
  } catch (err) {
    return reportError(emit, err);
  }
  return enhanceCommand(enhanceArgv, emitFor);
}

function jobsCommand(argv: string[], emitFor: (json: boolean) => Emit): number {
  try {
    const args = parseJobsArgs(argv);
    const jobs = listJobs(args.paths);
    process.stdout.write(args.json ? `${JSON.stringify(jobs)}\n` : formatJobs(jobs));
    return ExitCode.ok;
  } catch (err) {
    return reportError(emitFor(argv.includes('--json')), err);
  }
}

async function probeCommand(argv: string[], emitFor: (json: boolean) => Emit): Promise<number> {
  const emit = emitFor(argv.includes('--json'));
  try {
    const args = parseProbeArgs(argv);
    const tools = findFfmpegTools();
    const info = toProbeInfo(await probeMedia(tools.ffprobe, args.input));
    if (args.json) process.stdout.write(`${JSON.stringify(info)}\n`);
    else {
      for (const [k, v] of Object.entries(info))
        process.stdout.write(`${k.padEnd(20)} ${Array.isArray(v) ? v.join(':') : v}\n`);
    }
    return ExitCode.ok;
  } catch (err) {
    return reportError(emit, err);
  }
}

/** True when the arguments (before a `--` terminator) ask for help. */
const asksForHelp = (argv: string[]): boolean => {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

/** `huaju4k <command> ...`; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const spec = COMMANDS.find((c) => c.name === command);
  if (spec && asksForHelp(rest)) {
    process.stdout.write(`${commandUsage(spec)}\n`);
    return ExitCode.ok;
  }
  const send = ipcSend();
  const emitFor = (json: boolean) =>
    createEmitter({
      json,
      send,
      // Forked by the extension, the events go over IPC and the extension writes the log from them: the same words
      // again on stderr would reach the log twice (and the progress lines as warnings).
      human: send ? undefined : process.stderr,
      isTTY: process.stderr.isTTY,
      eventsFile: process.env.HUAJU4K_EVENTS_FILE || undefined,
    });
  switch (command) {
    case 'enhance':
      return enhanceCommand(rest, emitFor);
    case 'probe':
      return probeCommand(rest, emitFor);
    case 'resume':
      return resumeCommand(rest, emitFor);
    case 'jobs':
      return jobsCommand(rest, emitFor);
    case 'bench':
      try {
        return await runBench(parseBenchArgs(rest));
      } catch (err) {
        return reportError(emitFor(rest.includes('--json')), err);
      }
    case 'hub':
      return runHubCommand(rest);
    case 'ai-worker':
      return runAiWorkerCommand(rest);
    case 'worker':
      try {
        return await workerCommand(rest, emitFor(rest.includes('--json')));
      } catch (err) {
        return reportError(emitFor(rest.includes('--json')), err);
      }
    case PROBE_COMMAND:
      return probeProviderCommand(rest);
    case '--version':
    case '-V':
    case 'version':
      process.stdout.write(`huaju4k ${version} (engine protocol v${ENGINE_PROTOCOL_VERSION})\n`);
      return ExitCode.ok;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? ExitCode.badInput : ExitCode.ok;
    default:
      process.stderr.write(`huaju4k: unknown command "${command}"\n${USAGE}\n`);
      return ExitCode.badInput;
  }
}

// The same bundle is also the inference worker's entry (see infer-worker.ts): only the main thread runs the CLI.
if (isMainThread && require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Flush stdout (JSON lines) and the IPC channel, then leave even if a stray handle lingers.
      setTimeout(() => process.exit(code), 50).unref();
      if (process.connected) process.disconnect?.();
    },
    (err: unknown) => {
      process.stderr.write(`huaju4k: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(ExitCode.failure);
    },
  );
}
