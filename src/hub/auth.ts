/** Bearer-token check for the hub's HTTP API and WebSocket upgrades. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** The token a request presents: `Authorization: Bearer T`, or `?token=T` for browsers that cannot set headers. */
export function presentedToken(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
  return url.searchParams.get('token');
}

/** True when no token is configured, or the presented one matches (constant time). */
export function isAuthorized(expected: string | null, presented: string | null): boolean {
  if (expected === null) return true;
  if (presented === null) return false;
  return timingSafeEqual(digest(expected), digest(presented));
}
