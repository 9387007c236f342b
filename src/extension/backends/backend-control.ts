/**
 * Commands sent to a backend (no `vscode` import, tested against a real hub): start/stop a recording
 * (`record/start`, `record/stop` → `{ok, path}`) and switch the AI core on or off (`ai/config {enabled}`). A
 * refusal becomes a `BackendRefusal` whose message says what happened and what to do (set the token, start the hub
 * with --ai, update huaju4k).
 */
import {
  type AiOffStatus,
  type AiStatus,
  parseAiStatus,
  type ReceivedHubStatus,
  type RecordKind,
} from '../../protocol/hub-status';

export const RECORD_START_PATH = '/api/v1/realtime_pipeline/record/start';
export const RECORD_STOP_PATH = '/api/v1/realtime_pipeline/record/stop';
export const AI_CONFIG_PATH = '/api/v1/ai/config';

export interface ControlTarget {
  name: string;
  url: string;
  token: string | undefined;
  timeoutMs?: number;
}

/** The backend answered with a refusal or did not answer; `status` is the HTTP status when there was one. */
export class BackendRefusal extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'BackendRefusal';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function detailOf(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  const d = body.detail ?? body.error ?? body.message;
  return typeof d === 'string' && d ? d : undefined;
}

function refusal(t: ControlTarget, what: string, path: string, status: number, body: unknown): BackendRefusal {
  const detail = detailOf(body);
  const head = `Backend "${t.name}" refused to ${what}`;
  if (status === 401 || status === 403)
    return new BackendRefusal(`${head}: it wants a token (HTTP ${status}). Set Backend Token, then try again.`, status);
  if (status === 404 || status === 405 || status === 501)
    return new BackendRefusal(
      `${head}: it has no ${path} (HTTP ${status}${detail ? `: ${detail}` : ''}). A huaju4k hub older than the AI core and recording answers so: update huaju4k there.`,
      status,
    );
  if (status === 503)
    return new BackendRefusal(
      `${head}: ${detail ?? 'service unavailable'} (HTTP 503). Start the hub with --ai.`,
      status,
    );
  return new BackendRefusal(`${head}: ${detail ?? 'no reason given'} (HTTP ${status}).`, status);
}

async function post(t: ControlTarget, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (t.token) headers.authorization = `Bearer ${t.token}`;
  let res: Response;
  try {
    res = await fetch(t.url.replace(/\/+$/, '') + path, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(t.timeoutMs ?? 30_000),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.message);
    throw new BackendRefusal(`Backend "${t.name}" (${t.url}) did not answer: ${why}. Check that it runs.`);
  }
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    json = undefined;
  }
  return { status: res.status, body: json };
}

export interface RecordingAnswer {
  /** The file on the backend's machine (null when nothing was written). */
  path: string | null;
  /** Frames written (record/stop of our hub). */
  frames?: number;
  /** Why nothing was written, or what went wrong, when the hub says so. */
  detail?: string;
}

function recordingAnswer(body: unknown): RecordingAnswer {
  const b = isObject(body) ? body : {};
  return {
    path: typeof b.path === 'string' ? b.path : null,
    ...(typeof b.frames === 'number' ? { frames: b.frames } : {}),
    ...(detailOf(body) ? { detail: detailOf(body) } : {}),
  };
}

/** `record/start {source, kind}` → the file the backend writes to. */
export async function startRecording(t: ControlTarget, source: string, kind: RecordKind): Promise<RecordingAnswer> {
  const r = await post(t, RECORD_START_PATH, { source, client_id: source, kind });
  const answer = recordingAnswer(r.body);
  if (r.status !== 200 || !isObject(r.body) || r.body.ok !== true || answer.path === null) {
    throw refusal(t, `start recording ${source} (${kind})`, RECORD_START_PATH, r.status, r.body);
  }
  return answer;
}

/** `record/stop {source, kind}` → the finished file, or `path: null` and why when nothing was recorded. */
export async function stopRecording(t: ControlTarget, source: string, kind: RecordKind): Promise<RecordingAnswer> {
  const r = await post(t, RECORD_STOP_PATH, { source, client_id: source, kind });
  if (r.status !== 200) throw refusal(t, `stop recording ${source} (${kind})`, RECORD_STOP_PATH, r.status, r.body);
  return recordingAnswer(r.body);
}

/** `ai/config {enabled}` → the AI core's status afterwards (undefined when the answer has none we understand). */
export async function setAiCore(t: ControlTarget, enabled: boolean): Promise<AiStatus | AiOffStatus | undefined> {
  const r = await post(t, AI_CONFIG_PATH, { enabled });
  if (r.status !== 200)
    throw refusal(t, `turn its AI core ${enabled ? 'on' : 'off'}`, AI_CONFIG_PATH, r.status, r.body);
  return isObject(r.body) ? parseAiStatus(r.body.status) : undefined;
}

/**
 * Sources a recording could be started for, as the hub status names them: decoder sessions (`codec:<id>`),
 * `/video_in` connections (`video_in:<id>`, publishers that do not subscribe included) and the sources the AI core has seen (a frame header's `source`).
 */
export function recordableSources(s: ReceivedHubStatus): string[] {
  const out = new Set<string>();
  for (const c of s.codecSessions) out.add(`codec:${c.id}`);
  for (const r of s.resources)
    if (r.kind === 'ws-connection' && r.detail.startsWith('/video_in ')) out.add(`video_in:${r.id}`);
  if (s.ai?.enabled) for (const src of s.ai.sources) out.add(src.id);
  return [...out];
}
