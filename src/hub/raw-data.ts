/** A `ws` message payload as one Buffer (ws hands out a Buffer, an array of fragments, or an ArrayBuffer). */
import type { RawData } from 'ws';

export function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
