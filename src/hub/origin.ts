/**
 * Origin and Host checks against browser-borne attacks on a hub without a token. A web page can open a WebSocket
 * to 127.0.0.1 (the browser then sends that page's `Origin`), and DNS rebinding points an attacker's host name at
 * 127.0.0.1 (the browser then sends that name in `Host`). Clients that are not browsers send no Origin and pass.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export interface OriginPolicy {
  /** The address the hub binds: a request naming it in Host is ours. */
  host: string;
  /** Extra Host names served (e.g. a LAN name); '*' allows any. IP literals and localhost always pass. */
  allowedHosts: readonly string[];
  /** Extra page origins (`scheme://host[:port]`) allowed to connect; '*' allows any. Loopback pages always pass. */
  allowedOrigins: readonly string[];
}

/** Hostname from a Host header value or URL host: brackets and port removed, lower case. */
function hostnameOf(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.indexOf(':');
  return colon >= 0 && h.indexOf(':', colon + 1) < 0 ? h.slice(0, colon) : h;
}

function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

function hostRefusal(req: IncomingMessage, policy: OriginPolicy): string | null {
  const header = req.headers.host;
  if (header === undefined || policy.allowedHosts.includes('*')) return null;
  const name = hostnameOf(header);
  // An IP literal cannot be rebound: DNS rebinding needs a name the attacker controls.
  if (isIP(name) !== 0 || isLoopbackName(name) || name === policy.host.toLowerCase()) return null;
  if (policy.allowedHosts.some((h) => h.toLowerCase() === name)) return null;
  return `Host "${header}" is not a name this hub serves (DNS rebinding guard): add it to allowed_hosts`;
}

function originRefusal(req: IncomingMessage, policy: OriginPolicy): string | null {
  const origin = req.headers.origin;
  if (origin === undefined || policy.allowedOrigins.includes('*')) return null;
  if (policy.allowedOrigins.includes(origin)) return null;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    url = new URL('null:'); // "null" (sandboxed or file: page) and anything unparsable
  }
  const name = hostnameOf(url.host);
  const sameHost = req.headers.host !== undefined && url.host.toLowerCase() === req.headers.host.toLowerCase();
  if (url.host !== '' && (isLoopbackName(name) || sameHost)) return null;
  return `a page from ${origin} may not use this hub (cross-site guard): add that origin to allowed_origins`;
}

/** Why a browser-borne request must be refused (403), or null when it may proceed. */
export function browserRefusal(req: IncomingMessage, policy: OriginPolicy): string | null {
  return hostRefusal(req, policy) ?? originRefusal(req, policy);
}
