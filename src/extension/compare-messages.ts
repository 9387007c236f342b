/**
 * Compare panel ↔ host messages (the before/after view of a finished output). Pure: compiled into both the
 * extension and the webview bundle. Anything that does not parse is ignored by the receiver.
 */

/** host → webview: what is compared. */
export interface CompareInit {
  type: 'compareInit';
  source: string;
  output: string;
  durationS: number;
  fps: number;
  width: number;
  height: number;
}

/** host → webview: both frames at one time, the same size (the source scaled up as a plain resize would). */
export interface CompareFrames {
  type: 'compareFrames';
  /** The request this answers. */
  seq: number;
  timeS: number;
  mime: 'image/jpeg';
  source: string;
  output: string;
  width: number;
  height: number;
}

export interface CompareError {
  type: 'compareError';
  seq: number;
  message: string;
}

export type CompareHostMessage = CompareInit | CompareFrames | CompareError;

/** webview → host */
export type CompareWebviewMessage =
  | { type: 'compareReady' }
  | { type: 'compareSeek'; seq: number; timeS: number }
  | { type: 'compareOpenExternal' };

export function parseCompareWebviewMessage(m: unknown): CompareWebviewMessage | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const o = m as Record<string, unknown>;
  if (o.type === 'compareReady' || o.type === 'compareOpenExternal') return { type: o.type };
  if (o.type === 'compareSeek' && Number.isInteger(o.seq) && typeof o.timeS === 'number' && o.timeS >= 0)
    return { type: 'compareSeek', seq: o.seq as number, timeS: o.timeS };
  return undefined;
}

export function parseCompareHostMessage(m: unknown): CompareHostMessage | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const t = (m as { type?: unknown }).type;
  return t === 'compareInit' || t === 'compareFrames' || t === 'compareError' ? (m as CompareHostMessage) : undefined;
}
