// Starts code-server (VS Code 1.139 server + web workbench, on Node 24 from the e2e cache) and a headless
// chromium page on it. Shared by the runTests shim (vscode-shim.mjs) and the UI tests. Every process is started
// in its own process group and killed as a group.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Runs tools/e2e/install.sh (idempotent) and returns { node24, codeServerEntry }. */
export function ensureInstalled() {
  const r = spawnSync('bash', [path.join(here, 'install.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`tools/e2e/install.sh failed (exit ${r.status})`);
  const vars = Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('=')),
  );
  const codeServerEntry = path.join(path.dirname(vars.CODE_SERVER), '..', 'code-server', 'out', 'node', 'entry.js');
  return { node24: vars.NODE24, codeServerEntry };
}

/** `code-server --install-extension <vsix>` into an extensions folder (as a user installs a .vsix). */
export function installVsix(vsix, extensionsDir) {
  const { node24, codeServerEntry } = ensureInstalled();
  const r = spawnSync(
    path.join(node24, 'bin', 'node'),
    [codeServerEntry, '--extensions-dir', extensionsDir, '--install-extension', vsix],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0) throw new Error(`installing ${vsix} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * @param {{ workspace: string, dir: string, trust?: boolean, env?: Record<string,string>, extensionsDir?: string }} o
 *   dir: a fresh folder for user data, extensions and logs (fresh per run: old extension hosts linger otherwise).
 */
export async function startCodeServer(o) {
  const { node24, codeServerEntry } = ensureInstalled();
  const port = await freePort();
  const userData = path.join(o.dir, 'user-data');
  const extensionsDir = o.extensionsDir ?? path.join(o.dir, 'extensions');
  const xdg = path.join(o.dir, 'xdg');
  for (const d of [userData, extensionsDir, xdg]) mkdirSync(d, { recursive: true });
  const args = [
    codeServerEntry,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    ...(o.trust === false ? [] : ['--disable-workspace-trust']),
    '--user-data-dir',
    userData,
    '--extensions-dir',
    extensionsDir,
    '--vscode-option',
    'enable-smoke-test-driver',
    o.workspace,
  ];
  const logFile = path.join(o.dir, 'code-server.log');
  const log = createWriteStream(logFile);
  const child = spawn(path.join(node24, 'bin', 'node'), args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...o.env,
      PATH: `${path.join(node24, 'bin')}:${process.env.PATH}`,
      XDG_CONFIG_HOME: xdg,
      XDG_DATA_HOME: xdg,
      XDG_CACHE_HOME: xdg,
    },
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}; see ${logFile}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`code-server did not answer /healthz in 60 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    /** The server's pid, also its process group (the extension hosts it forks are in that group). */
    pid: child.pid,
    port,
    base,
    logFile,
    /** Workbench URL for a folder, optionally with extension development/test paths in the payload. */
    url(folder, { dev, tests } = {}) {
      const payload = [];
      if (dev) payload.push(['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${dev}`]);
      if (tests) payload.push(['extensionTestsPath', `vscode-remote://127.0.0.1:${port}${tests}`]);
      const q = new URLSearchParams({ folder });
      if (payload.length) q.set('payload', JSON.stringify(payload));
      return `${base}/?${q}`;
    },
    async stop() {
      killGroup(child.pid, 'SIGTERM');
      await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 3000))]);
      killGroup(child.pid, 'SIGKILL');
      log.end();
    },
  };
}

export function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // gone
  }
}

/** Headless chromium through playwright-core with a fresh profile. Returns { browser, page }. */
export async function openBrowser(dir) {
  const { chromium } = await import('playwright-core');
  const profile = path.join(dir, 'chromium');
  mkdirSync(profile, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1400, height: 860 },
    args: [...CHROMIUM_ARGS],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}
