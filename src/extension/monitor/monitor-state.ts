/**
 * The panel host's memory, free of `vscode` so it is unit-tested: per-job replays (a bounded number of jobs), which
 * job the panel follows, the backends rows and the newest broadcast frame of each backend (one per listed backend,
 * so a re-shown panel gets its thumbnails back at once). The panel follows the newest job to start unless told
 * otherwise.
 */
import type { EngineEvent } from '../../protocol/engine-events';
import type { EndPhase } from '../../protocol/job-phase';
import {
  type BackendFrameMessage,
  type HostToWebviewMessage,
  type JobEndedMessage,
  MAX_BACKEND_FRAME_BASE64_CHARS,
  type MonitorBackendRow,
  WEBVIEW_PROTOCOL_VERSION,
} from '../../protocol/webview-messages';
import { JobReplay } from './job-replay';

export const MAX_JOBS = 8;

export class MonitorState {
  private readonly jobs = new Map<string, JobReplay>();
  private focused: string | null = null;
  private backends: MonitorBackendRow[] | null = null;
  private readonly frames = new Map<string, BackendFrameMessage>();
  private readonly endings = new Map<string, JobEndedMessage>();

  get focusedJobId(): string | null {
    return this.focused;
  }

  hasJob(jobId: string): boolean {
    return this.jobs.has(jobId);
  }

  /** Records the event; returns the message to post to the webview, if the panel shows this job. */
  record(jobId: string, event: EngineEvent): HostToWebviewMessage | undefined {
    let replay = this.jobs.get(jobId);
    if (!replay) {
      replay = new JobReplay(jobId);
      this.jobs.set(jobId, replay);
      this.evict();
    }
    replay.record(event);
    if (event.type === 'start') this.endings.delete(jobId);
    if (event.type === 'start' && this.focused !== jobId) {
      this.focused = jobId;
      return this.init();
    }
    if (this.focused === null) this.focused = jobId;
    if (this.focused !== jobId) return undefined;
    return { v: WEBVIEW_PROTOCOL_VERSION, type: 'engineEvent', jobId, event };
  }

  /** The job ended as the extension saw it; returns the message to post when the panel shows this job. */
  end(jobId: string, phase: EndPhase, message?: string): JobEndedMessage | undefined {
    if (!this.jobs.has(jobId)) return undefined;
    const ended: JobEndedMessage = {
      v: WEBVIEW_PROTOCOL_VERSION,
      type: 'jobEnded',
      jobId,
      phase,
      ...(message ? { message } : {}),
    };
    this.endings.set(jobId, ended);
    return this.focused === jobId ? ended : undefined;
  }

  /** How the focused job ended, to post after an `init` (its events alone may not say). */
  focusedEnding(): JobEndedMessage | undefined {
    return this.focused ? this.endings.get(this.focused) : undefined;
  }

  /** Shows another known job; returns the `init` to post, or undefined when the job is unknown. */
  focus(jobId: string): HostToWebviewMessage | undefined {
    if (!this.jobs.has(jobId)) return undefined;
    this.focused = jobId;
    return this.init();
  }

  setBackends(rows: MonitorBackendRow[]): HostToWebviewMessage {
    this.backends = rows.map((r) => ({ ...r }));
    const names = new Set(rows.map((r) => r.name));
    for (const name of [...this.frames.keys()]) if (!names.has(name)) this.frames.delete(name);
    return { v: WEBVIEW_PROTOCOL_VERSION, type: 'backends', rows: this.backends };
  }

  /**
   * Keeps a backend's newest frame; returns the message to post, or undefined when the frame is too large for the
   * protocol (the caller logs it) — a frame never replaces the previous one unless it can be shown.
   */
  setBackendFrame(name: string, jpeg: Buffer, ts: number): BackendFrameMessage | undefined {
    if (Math.ceil(jpeg.length / 3) * 4 > MAX_BACKEND_FRAME_BASE64_CHARS) return undefined;
    const message: BackendFrameMessage = {
      v: WEBVIEW_PROTOCOL_VERSION,
      type: 'backendFrame',
      name,
      mime: 'image/jpeg',
      data: jpeg.toString('base64'),
      ts,
    };
    this.frames.set(name, message);
    return message;
  }

  /** The newest frame of each backend, to post after an `init`. */
  backendFrames(): BackendFrameMessage[] {
    return [...this.frames.values()];
  }

  init(): HostToWebviewMessage {
    const replay = this.focused ? this.jobs.get(this.focused) : undefined;
    return {
      v: WEBVIEW_PROTOCOL_VERSION,
      type: 'init',
      jobId: this.focused,
      events: replay ? replay.events() : [],
      backends: this.backends,
    };
  }

  /** Drops the oldest finished jobs (never the focused one) beyond MAX_JOBS. */
  private evict(): void {
    if (this.jobs.size <= MAX_JOBS) return;
    const candidates = [...this.jobs.values()]
      .filter((j) => j.jobId !== this.focused)
      .sort((a, b) => Number(b.finished) - Number(a.finished) || a.lastTs - b.lastTs);
    for (const j of candidates) {
      if (this.jobs.size <= MAX_JOBS) break;
      this.jobs.delete(j.jobId);
      this.endings.delete(j.jobId);
    }
  }
}
