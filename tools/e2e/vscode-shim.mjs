#!/usr/bin/env node
// A `vscodeExecutablePath` for @vscode/test-electron's runTests on machines where desktop VS Code cannot be
// downloaded: it accepts the arguments runTests passes to VS Code, runs the same extension tests in code-server's
// real extension host driven by headless chromium, and exits with the test runner's exit code.
// Env: HUAJU4K_E2E_ARTIFACTS (screenshots), HUAJU4K_E2E_TIMEOUT_S (default 900), HUAJU4K_E2E_VERBOSE=1.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openBrowser, startCodeServer } from './code-server.mjs';

const argv = process.argv.slice(2);
const opt = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const dev = opt('extensionDevelopmentPath');
const tests = opt('extensionTestsPath');
const workspace = argv.find((a) => !a.startsWith('-'));
if (!dev || !tests || !workspace) {
  console.error('vscode-shim: needs --extensionDevelopmentPath=, --extensionTestsPath= and a workspace folder');
  process.exit(2);
}
const artifacts = process.env.HUAJU4K_E2E_ARTIFACTS || path.resolve('test-artifacts');
mkdirSync(artifacts, { recursive: true });
const dir = mkdtempSync(path.join(tmpdir(), 'huaju4k-host-'));
const verbose = process.env.HUAJU4K_E2E_VERBOSE === '1';
const timeoutS = Number(process.env.HUAJU4K_E2E_TIMEOUT_S || 900);

// Offline machines: marketplace, GitHub auth and telemetry lookups fail; that is not the extension's doing.
const NOISE = /open-vsx|ENOTFOUND|No default agent|authentication provider 'github'|telemetry|marketplace|gallery/i;
let server;
let context;
let code = 1;
try {
  server = await startCodeServer({ workspace, dir, trust: true });
  ({ context } = await openBrowser(dir));
  const page = context.pages()[0];
  let resolveExit;
  const exit = new Promise((resolve) => {
    resolveExit = resolve;
  });
  await page.exposeFunction('codeAutomationExit', (c) => resolveExit(Number(c)));
  await page.exposeFunction('codeAutomationLog', (level, args) => {
    const parts = Array.isArray(args) ? args : [args];
    if (verbose || (level === 'error' && !NOISE.test(parts.join(' ')))) console.error(`[host ${level}]`, ...parts);
  });
  const t0 = Date.now();
  await page.goto(server.url(workspace, { dev, tests }));
  const timer = new Promise((resolve) => setTimeout(() => resolve('timeout'), timeoutS * 1000));
  const result = await Promise.race([exit, timer]);
  await page.screenshot({ path: path.join(artifacts, 'host-suite-end.png') }).catch(() => {});
  if (result === 'timeout') {
    console.error(
      `vscode-shim: the extension tests did not finish in ${timeoutS} s (code-server log: ${server.logFile})`,
    );
  } else {
    code = result;
    console.error(`vscode-shim: extension host exited with ${code} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
} catch (err) {
  console.error(`vscode-shim: ${err instanceof Error ? err.stack : err}`);
} finally {
  await context?.close().catch(() => {});
  await server?.stop();
}
process.exit(code);
