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

const isText = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isSize = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** Every field checked, as the monitor's host messages are: a malformed message is dropped, never half-drawn. */
export function parseCompareHostMessage(m: unknown): CompareHostMessage | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const o = m as Record<string, unknown>;
  switch (o.type) {
    case 'compareInit':
      if (!isText(o.source) || !isText(o.output) || !isTime(o.durationS) || !isTime(o.fps)) return undefined;
      if (!isSize(o.width) || !isSize(o.height)) return undefined;
      return {
        type: o.type,
        source: o.source,
        output: o.output,
        durationS: o.durationS,
        fps: o.fps,
        width: o.width,
        height: o.height,
      };
    case 'compareFrames':
      if (!isCount(o.seq) || !isTime(o.timeS) || o.mime !== 'image/jpeg') return undefined;
      if (!isText(o.source) || !isText(o.output) || !isSize(o.width) || !isSize(o.height)) return undefined;
      return {
        type: o.type,
        seq: o.seq,
        timeS: o.timeS,
        mime: o.mime,
        source: o.source,
        output: o.output,
        width: o.width,
        height: o.height,
      };
    case 'compareError':
      return isCount(o.seq) && isText(o.message) ? { type: o.type, seq: o.seq, message: o.message } : undefined;
    default:
      return undefined;
  }
}
