import { rmSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { runHubCommand } from '../hub/cli';
import { ENGINE_PROTOCOL_VERSION, type EngineEvent, ExitCode } from '../protocol/engine-events';
import { parseBenchArgs, parseEnhanceArgs, parseProbeArgs, USAGE } from './args';
import { runBench } from './bench';
import { children } from './children';
import { EngineError } from './errors';
import { createEmitter, type Emit } from './events';
import { findFfmpegTools } from './ffmpeg-tools';
import { WorkerUpscaler } from './infer-worker';
import { DEFAULT_MODEL_ID } from './model/loader';
import { defaultOutputPath, partialPathFor, runEnhance } from './pipeline';
import { probeMedia, toProbeInfo } from './probe';
import { resolveTarget } from './target-size';
import { autoTile } from './tile-size';

export const TILE_PAD = 12;
const CANCEL_GRACE_MS = 1500;

/** IPC when forked by the extension (the same event objects as the `--json` lines). */
function ipcSend(): ((e: EngineEvent) => void) | undefined {
  if (typeof process.send !== 'function') return undefined;
  return (e) => {
    if (process.connected) process.send?.(e);
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

async function enhanceCommand(argv: string[], emitFor: (json: boolean) => Emit): Promise<number> {
  let emit = emitFor(argv.includes('--json'));
  const abort = new AbortController();
  let partial: string | undefined;
  let settle: ((code: number) => void) | undefined;
  const cancelled = new Promise<number>((resolve) => {
    settle = resolve;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) return;
    abort.abort(signal);
    children.killAll();
    // The model may be mid-frame in its worker; don't wait for it longer than the grace period.
    setTimeout(() => settle?.(ExitCode.cancelled), CANCEL_GRACE_MS).unref();
  };
  const onDisconnect = () => onSignal('SIGTERM');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('disconnect', onDisconnect);
  let upscaler: WorkerUpscaler | undefined;
  const work = (async () => {
    const args = parseEnhanceArgs(argv);
    emit = emitFor(args.json);
    const tools = findFfmpegTools();
    const info = await probeMedia(tools.ffprobe, args.input);
    resolveTarget({ width: info.displayWidth, height: info.displayHeight }, args);
    partial = partialPathFor(args.output ?? defaultOutputPath(args.input));
    const tile = args.tile === 'auto' ? autoTile(info.width, info.height) : args.tile;
    upscaler = await WorkerUpscaler.start({
      modelRef: args.model ?? DEFAULT_MODEL_ID,
      tile,
      pad: TILE_PAD,
      intraOpNumThreads: args.threads,
    });
    if (abort.signal.aborted) throw new Error('cancelled');
    await runEnhance(
      { ...args, previews: args.json || !!process.send, signal: abort.signal },
      { tools, info, model: upscaler.model, upscaler, tile, emit },
    );
    return ExitCode.ok;
  })().catch((err: unknown) => (abort.signal.aborted ? ExitCode.cancelled : reportError(emit, err)));
  const code = await Promise.race([work, cancelled]);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('disconnect', onDisconnect);
  if (code === ExitCode.cancelled) {
    children.killAll();
    if (partial) rmSync(partial, { force: true });
    emit({
      type: 'error',
      code: ExitCode.cancelled,
      reason: 'cancelled',
      message: 'cancelled; partial output removed',
    });
  }
  await upscaler?.close();
  return code;
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

/** `huaju4k <command> ...`; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const send = ipcSend();
  const emitFor = (json: boolean) => createEmitter({ json, send, human: process.stderr, isTTY: process.stderr.isTTY });
  switch (command) {
    case 'enhance':
      return enhanceCommand(rest, emitFor);
    case 'probe':
      return probeCommand(rest, emitFor);
    case 'bench':
      try {
        return await runBench(parseBenchArgs(rest));
      } catch (err) {
        return reportError(emitFor(rest.includes('--json')), err);
      }
    case 'hub':
      return runHubCommand(rest);
    case '--version':
    case 'version':
      process.stdout.write(`huaju4k engine (protocol v${ENGINE_PROTOCOL_VERSION})\n`);
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
