// `npm test`: builds, runs the unit suite under c8 (coverage), then the real extension-host/browser suite when it
// exists. Every suite runs even if an earlier one failed; the exit code is non-zero if any failed.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts ?? {};
const steps = [
  ['build', ['run', 'build']],
  ['unit', ['run', 'test:unit']],
];
if (scripts['test:browser']) steps.push(['browser', ['run', 'test:browser']]);
if (scripts['test:e2e'] && process.env.HUAJU4K_SKIP_E2E !== '1') steps.push(['e2e', ['run', 'test:e2e']]);

const failed = [];
for (const [name, args] of steps) {
  console.log(`\n=== ${name} ===`);
  const r = spawnSync('npm', args, { stdio: 'inherit' });
  if (r.status !== 0) {
    failed.push(name);
    if (name === 'build') break;
  }
}
if (failed.length) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
