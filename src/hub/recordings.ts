/**
 * The hub's recordings and blankend's `record/start` / `record/stop` endpoints: `{"source": S, "kind": "raw" |
 * "processed"}` (blankend's `client_id` is taken for `source`) → `{ok, path}`. Files go to `record_dir` under a name
 * made from the source and the time; a client cannot choose the path. Every recording is finished on hub shutdown.
 */
import type { ApiAnswer } from './blankend-api';
import { jpegDimensions } from './jpeg';
import { type RecordingStatus, type RecordKind, recordingPath, StreamRecorder } from './recorder';

export const RECORD_START = '/api/v1/realtime_pipeline/record/start';
export const RECORD_STOP = '/api/v1/realtime_pipeline/record/stop';
export const RECORD_PATHS: ReadonlySet<string> = new Set([RECORD_START, RECORD_STOP]);

interface Target {
  source: string;
  kind: RecordKind;
}

function target(body: Record<string, unknown>): Target | string {
  const source = body.source ?? body.client_id;
  if (typeof source !== 'string' || source === '' || source.length > 256) {
    return 'say which source to record: {"source": "codec:c1"} (a frame header\'s source, codec:<id>, video_in:<id>)';
  }
  const kind = body.kind ?? 'raw';
  if (kind !== 'raw' && kind !== 'processed') return 'kind must be "raw" (as received) or "processed" (AI output)';
  return { source, kind };
}

export class Recordings {
  private readonly active = new Map<string, StreamRecorder>();

  constructor(
    private readonly dir: string,
    private readonly ffmpeg: string,
    private readonly aiRunning: () => boolean,
  ) {}

  /** A frame of `source` (as received, or processed): written by the recording of it, if any. */
  offer(source: string, kind: RecordKind, jpeg: Buffer): void {
    this.active.get(`${kind}|${source}`)?.write(jpeg);
  }

  list(): RecordingStatus[] {
    return [...this.active.values()].map((r) => ({ ...r.status }));
  }

  pids(): { source: string; pid: number }[] {
    return [...this.active.values()].flatMap((r) => (r.pid ? [{ source: r.status.source, pid: r.pid }] : []));
  }

  async answer(method: string, path: string, body: Record<string, unknown>): Promise<ApiAnswer> {
    if (method !== 'POST') return { code: 405, body: { detail: `use POST for ${path}` }, allow: 'POST' };
    const t = target(body);
    if (typeof t === 'string') return { code: 400, body: { ok: false, path: null, detail: t } };
    const key = `${t.kind}|${t.source}`;
    if (path === RECORD_START) {
      const running = this.active.get(key);
      if (running) return { code: 409, body: { ok: false, path: running.status.path, detail: 'already recording' } };
      if (t.kind === 'processed' && !this.aiRunning()) {
        return { code: 409, body: { ok: false, path: null, detail: 'no processed frames: the AI core is off (--ai)' } };
      }
      const file = recordingPath(this.dir, t.source, t.kind);
      this.active.set(key, new StreamRecorder(t.source, t.kind, file, this.ffmpeg, jpegDimensions));
      return { code: 200, body: { ok: true, path: file } };
    }
    const rec = this.active.get(key);
    if (!rec) return { code: 200, body: { ok: false, path: null } }; // blankend's answer when nothing records
    this.active.delete(key);
    const s = await rec.stop();
    if (s.frames === 0) {
      const detail = `no frame of ${t.source} arrived while recording: nothing was written`;
      return { code: 200, body: { ok: false, path: null, frames: 0, detail } };
    }
    return {
      code: 200,
      body: { ok: s.error === null, path: s.path, frames: s.frames, dropped: s.dropped, error: s.error },
    };
  }

  /** Finishes every recording's file (hub shutdown). */
  async close(): Promise<void> {
    const all = [...this.active.values()];
    this.active.clear();
    await Promise.all(all.map((r) => r.stop()));
  }
}
