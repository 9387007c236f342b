// `npm run test:e2e`: the extension in a real extension host (code-server 1.139 on Node 24) through
// @vscode/test-electron's runTests + a vscodeExecutablePath shim, then the chromium UI tests.
// Prints mocha's own "N passing / N failing" lines for each part (the CI sums them); exits non-zero on failure.
// Env: HUAJU4K_E2E_ONLY=host|ui, HUAJU4K_E2E_GREP=<pattern>, HUAJU4K_E2E_KEEP=1 (keep temp dirs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';
import Mocha from 'mocha';
import { ensureInstalled } from '../../tools/e2e/code-server.mjs';
import { buildSuite } from './build.mjs';
import { engineSupportsResume, makeWorkspace } from './fixtures.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
process.chdir(repo);
const artifacts = path.join(repo, 'test-artifacts');
mkdirSync(artifacts, { recursive: true });
const only = process.env.HUAJU4K_E2E_ONLY;
const timings = [];
const time = async (label, fn) => {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    timings.push(`${label} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
};

const enginePath = path.join(repo, 'dist', 'engine.js');
if (!existsSync(enginePath) || !existsSync(path.join(repo, 'dist', 'extension.js'))) {
  console.error('e2e: dist/ is missing; run `npm run build` first (npm run test:e2e does).');
  process.exit(2);
}
await time('install (code-server + Node 24, cached)', async () => ensureInstalled());
const supportsResume = engineSupportsResume(enginePath);
let failed = false;

if (only !== 'ui') {
  const root = mkdtempSync(path.join(tmpdir(), 'huaju4k-e2e-'));
  const reportFile = path.join(root, 'report.txt');
  const { ws } = makeWorkspace(root, { reportFile, engineSupportsResume: supportsResume });
  const suite = await buildSuite();
  console.log(`\ne2e: extension-host suite (workspace ${ws}${supportsResume ? '' : '; engine has no --resume yet'})`);
  let exitError;
  await time('extension-host suite', async () => {
    try {
      await runTests({
        vscodeExecutablePath: path.join(repo, 'tools', 'e2e', 'vscode-shim.mjs'),
        extensionDevelopmentPath: repo,
        extensionTestsPath: path.join(repo, suite),
        launchArgs: [ws],
        extensionTestsEnv: { HUAJU4K_E2E_ARTIFACTS: artifacts },
      });
    } catch (err) {
      exitError = err;
    }
  });
  const report = existsSync(reportFile) ? readFileSync(reportFile, 'utf8') : '';
  process.stdout.write(report);
  if (!/^\s*\d+ passing/m.test(report)) {
    // The host never ran mocha (startup failure): count it as one failure so the CI sees it.
    console.log(`\n  0 passing\n  1 failing\n\n  1) extension host did not run the suite: ${exitError ?? 'no report'}`);
    failed = true;
  } else if (exitError) {
    failed = true;
  }
  if (process.env.HUAJU4K_E2E_KEEP !== '1') rmSync(root, { recursive: true, force: true });
}

if (only !== 'host') {
  if (process.env.HUAJU4K_E2E_VSIX === undefined) {
    // Package the extension as users get it (the linux-x64 platform package); the last UI test installs it into
    // code-server and enhances.
    const vsix = path.join(repo, 'out', 'huaju4k-linux-x64.vsix');
    const r = await time('vsce package', async () =>
      spawnSync(process.execPath, [path.join(repo, 'tools', 'package', 'build.mjs'), '--out', 'out', 'linux-x64'], {
        cwd: repo,
        encoding: 'utf8',
        timeout: 300_000,
      }),
    );
    if (r.status === 0) {
      process.env.HUAJU4K_E2E_VSIX = vsix;
      console.log(`e2e: packaged ${path.relative(repo, vsix)} (${(statSync(vsix).size / 1e6).toFixed(1)} MB)`);
    } else {
      // Counted as a failure (mocha-style line for the CI's sum); the .vsix UI test is then skipped.
      console.log(`\n  1 failing\n\n  1) vsce package failed:\n${r.stdout}${r.stderr}`);
      failed = true;
    }
  }
  console.log('\ne2e: UI tests (chromium + code-server)');
  const mocha = new Mocha({ timeout: 240_000, reporter: 'spec', color: false, grep: process.env.HUAJU4K_E2E_GREP });
  // Every test/e2e/ui/*.test.mjs (workbench UI, monitor panel, …), in name order.
  const uiDir = path.join(repo, 'test', 'e2e', 'ui');
  for (const f of readdirSync(uiDir)
    .filter((n) => n.endsWith('.test.mjs'))
    .sort())
    mocha.addFile(path.join(uiDir, f));
  await mocha.loadFilesAsync();
  const failures = await time('UI tests', () => new Promise((resolve) => mocha.run(resolve)));
  if (failures > 0) failed = true;
}

console.log(`\ne2e timings: ${timings.join(' · ')}`);
process.exit(failed ? 1 : 0);
