/**
 * The `huaju4k.backends` setting (pure, no `vscode` import): parsing, validation of what a user types into the
 * Add Backend prompts, and the SecretStorage key of a backend's token.
 */

/** Key under the `huaju4k` section. */
export const BACKENDS_SETTING = 'backends';

export interface BackendConfig {
  name: string;
  /** Base HTTP(S) address of the backend, e.g. http://127.0.0.1:8765 (no trailing slash). */
  url: string;
}

export interface ParsedBackends {
  backends: BackendConfig[];
  /** One line per ignored entry: what is wrong and what to do. */
  problems: string[];
}

const NAME_RE = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u;

/** Where a backend's bearer token lives in SecretStorage (tokens never go into settings.json). */
export function tokenSecretKey(name: string): string {
  return `huaju4k.backend.${name}`;
}

/** The name a SecretStorage key belongs to, or undefined when the key is not a backend token. */
export function backendNameOfSecretKey(key: string): string | undefined {
  const prefix = 'huaju4k.backend.';
  return key.startsWith(prefix) ? key.slice(prefix.length) : undefined;
}

/** An error message for a backend name, or undefined when it is usable. */
export function validateBackendName(name: string, existing: readonly string[] = []): string | undefined {
  const n = name.trim();
  if (n.length === 0) return 'Give the backend a name, e.g. "studio-hub".';
  if (!NAME_RE.test(n))
    return 'Use at most 64 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit.';
  if (existing.includes(n)) return `A backend named "${n}" already exists: pick another name or remove it first.`;
  return undefined;
}

/**
 * Normalises a backend address: http(s) only, no query or fragment, trailing slashes removed. Returns the URL or
 * an error message that says what to type instead.
 */
export function normalizeBackendUrl(text: string): { url: string } | { error: string } {
  const raw = text.trim();
  if (raw.length === 0) return { error: 'Enter the backend address, e.g. http://127.0.0.1:8765' };
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { error: `"${raw}" is not a URL: enter the backend address, e.g. http://127.0.0.1:8765` };
  }
  if (u.protocol === 'ws:' || u.protocol === 'wss:') {
    const http = u.protocol === 'wss:' ? 'https:' : 'http:';
    return { error: `Use the HTTP address of the backend (${http}//${u.host}), not a WebSocket endpoint.` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return { error: `Only http:// and https:// backends are supported (got ${u.protocol}).` };
  if (u.search || u.hash) return { error: 'Leave out "?…" and "#…": tokens go into the token prompt, not the URL.' };
  if (u.username || u.password)
    return { error: 'Leave credentials out of the URL: the token prompt stores them safely.' };
  const path = u.pathname.replace(/\/+$/, '');
  return { url: `${u.protocol}//${u.host}${path}` };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads the setting's value as VS Code returns it; bad entries are skipped and reported, never thrown. */
export function parseBackendsSetting(value: unknown): ParsedBackends {
  const out: ParsedBackends = { backends: [], problems: [] };
  if (value === undefined || value === null) return out;
  if (!Array.isArray(value)) {
    out.problems.push('huaju4k.backends must be an array of {"name", "url"} objects; it is ignored.');
    return out;
  }
  value.forEach((entry, i) => {
    const where = `huaju4k.backends[${i}]`;
    if (!isRecord(entry) || typeof entry.name !== 'string' || typeof entry.url !== 'string') {
      out.problems.push(`${where} needs a "name" and a "url" string; it is ignored.`);
      return;
    }
    const nameError = validateBackendName(
      entry.name,
      out.backends.map((b) => b.name),
    );
    if (nameError) {
      out.problems.push(`${where} ("${entry.name}"): ${nameError}`);
      return;
    }
    const url = normalizeBackendUrl(entry.url);
    if ('error' in url) {
      out.problems.push(`${where} ("${entry.name}"): ${url.error}`);
      return;
    }
    out.backends.push({ name: entry.name.trim(), url: url.url });
  });
  return out;
}

/** The setting's raw value with one backend added, or replacing the entry of that name (others kept as they were). */
export function withBackend(raw: unknown, added: BackendConfig): unknown[] {
  const list = Array.isArray(raw) ? [...raw] : [];
  const i = list.findIndex((e) => isRecord(e) && typeof e.name === 'string' && e.name.trim() === added.name);
  const entry = { name: added.name, url: added.url };
  if (i < 0) list.push(entry);
  else list[i] = entry;
  return list;
}

/** The setting's raw value with every entry of that name removed (unparseable entries are kept as they were). */
export function withoutBackend(raw: unknown, name: string): unknown[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter((e) => !(isRecord(e) && typeof e.name === 'string' && e.name.trim() === name));
}
