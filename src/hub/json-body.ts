/** Reads a small JSON object request body (blankend's control requests); an error string says what was wrong. */
import type { IncomingMessage } from 'node:http';

const MAX_BODY_BYTES = 64 * 1024;

export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown> | string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return `request body over ${MAX_BODY_BYTES} bytes`;
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'request body is not valid JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'request body must be a JSON object';
  return value as Record<string, unknown>;
}
