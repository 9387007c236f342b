import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { type EngineEvent, previewFileFor } from '../protocol/engine-events';
import { formatPlan } from './pipeline/size-plan';

/** An event as the engine builds it; `emit` stamps `ts`. */
export type EventPayload = EngineEvent extends infer E ? (E extends EngineEvent ? Omit<E, 'ts'> : never) : never;
export type Emit = (event: EventPayload) => void;

export interface EmitterOptions {
  /** One JSON object per line on stdout. */
  json: boolean;
  /** Forked by the extension: `process.send` is there. */
  send?: (message: EngineEvent) => void;
  /** Human-readable lines (stderr); used when not in JSON mode. */
  human?: NodeJS.WritableStream;
  /**
   * Also append every event but previews, one JSON line each, to this file: an extension host that reloads while
   * the engine runs reads the job back from it (the IPC channel dies with the host).
   */
  eventsFile?: string;
  isTTY?: boolean;
}

const fmtS = (s: number): string =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`
      : `${Math.round(s)}s`;

export function formatHuman(e: EngineEvent): string | undefined {
  switch (e.type) {
    case 'start':
      return (
        `huaju4k: ${e.input} (${e.probe.width}x${e.probe.height}, ${e.probe.fps.toFixed(2)} fps, ${e.totalFrames} frames)\n` +
        `  → ${e.output} (${e.target.width}x${e.target.height}, ${e.encoder}) with ${e.model.id} x${e.model.scale} on ${e.executionProvider} (${e.precision}), tile ${e.tile || 'whole frame'}` +
        (e.plan ? `\n  ${formatPlan(e.plan, e.probe, e.target)}` : '')
      );
    case 'progress': {
      const pct = e.total > 0 ? ((100 * e.frame) / e.total).toFixed(1) : '?';
      return `  frame ${e.frame}/${e.total} (${pct}%)  ${e.fps.toFixed(2)} fps  eta ${fmtS(e.etaS)}  [decode ${e.stageMs.decode.toFixed(0)} ms, model ${e.stageMs.infer.toFixed(0)} ms, encode ${e.stageMs.encode.toFixed(0)} ms]`;
    }
    case 'warning':
      // Each provider `auto` passed over is detail for --json and the log; the terminal gets one `ep-summary` line.
      if (e.code === 'ep-fallback') return undefined;
      return `${e.code === 'ep-summary' ? 'info' : 'warning'}: ${e.message}`;
    case 'error':
      return `error: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ''}`;
    case 'done':
      return `done: ${e.output}\n  ${e.frames} frames in ${fmtS(e.seconds)} (${e.report.avgFps.toFixed(2)} fps), ${(e.report.outputBytes / 1e6).toFixed(1)} MB, peak RSS ${(e.report.peakRssBytes / 2 ** 20).toFixed(0)} MiB`;
    case 'segment':
      return `  segment ${e.index} done (frames ${e.startFrame}–${e.endFrame})`;
    default:
      return undefined;
  }
}

/** The newest preview, replaced whole (written aside, then renamed: a reader never sees half a file). */
function replacePreview(eventsFile: string, event: EngineEvent): void {
  const file = previewFileFor(eventsFile);
  try {
    writeFileSync(`${file}.tmp`, JSON.stringify(event));
    renameSync(`${file}.tmp`, file);
  } catch {
    // As for the events file: a convenience for re-attaching.
  }
}

function appendEventLine(file: string, event: EngineEvent): void {
  try {
    appendFileSync(file, `${JSON.stringify(event)}\n`);
  } catch {
    // The file is a convenience for re-attaching; the job goes on without it.
  }
}

/** The one place events leave the engine: stdout JSON lines, IPC messages, and/or human lines on stderr. */
export function createEmitter(opts: EmitterOptions): Emit {
  let progressOnLine = false;
  return (payload) => {
    const event = { ...payload, ts: Date.now() } as EngineEvent;
    if (opts.json) process.stdout.write(`${JSON.stringify(event)}\n`);
    if (opts.send) opts.send(event);
    if (opts.eventsFile && event.type !== 'preview') appendEventLine(opts.eventsFile, event);
    if (opts.eventsFile && event.type === 'preview') replacePreview(opts.eventsFile, event);
    if (opts.json || !opts.human) return;
    const line = formatHuman(event);
    if (line === undefined) return;
    if (opts.isTTY && event.type === 'progress') {
      opts.human.write(`\r${line}\x1b[K`);
      progressOnLine = true;
      return;
    }
    opts.human.write(`${progressOnLine ? '\n' : ''}${line}\n`);
    progressOnLine = false;
  };
}
