/**
 * Reads a request body (blankend's JSON control requests, a JPEG for ai/process) with a size and a time limit. A client that
 * goes away mid-body is not an error of ours: the answer is null and nothing is written (before, the `aborted`
 * error escaped as an unhandled rejection and killed the hub).
 */
import type { IncomingMessage } from 'node:http';

export const MAX_BODY_BYTES = 64 * 1024;

export interface BodyRefusal {
  status: 400 | 408 | 413;
  detail: string;
}

export type BodyResult = { body: Buffer } | { refusal: BodyRefusal } | { aborted: true };

/** A JSON object from a read body (empty = {}), or why not. */
export function parseJsonObject(raw: Buffer): { json: Record<string, unknown> } | { refusal: BodyRefusal } {
  const text = raw.toString('utf8').trim();
  if (text === '') return { json: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { refusal: { status: 400, detail: 'request body is not valid JSON' } };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { refusal: { status: 400, detail: 'request body must be a JSON object' } };
  }
  return { json: value as Record<string, unknown> };
}

export function readBody(req: IncomingMessage, timeoutMs: number, maxBytes = MAX_BODY_BYTES): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.removeAllListeners('data');
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ refusal: { status: 408, detail: `request body not complete within ${timeoutMs} ms` } }),
      timeoutMs,
    );
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        finish({ refusal: { status: 413, detail: `request body over ${maxBytes} bytes` } });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => finish({ body: Buffer.concat(chunks) }));
    req.on('aborted', () => finish({ aborted: true }));
    req.on('error', () => finish({ aborted: true }));
    req.on('close', () => {
      if (!req.complete) finish({ aborted: true });
    });
  });
}
