// Enforces the line-coverage bar for the engine (src/engine ≥ 90%) from c8's json-summary report.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

// Measured 95.5 % once every tsx child compiles with the same tsconfig (test/tsx-children.cjs explains why it must).
const BAR = Number(process.env.HUAJU4K_ENGINE_COVERAGE_BAR ?? 90);
const summary = JSON.parse(readFileSync('coverage/coverage-summary.json', 'utf8'));
let covered = 0;
let total = 0;
for (const [file, s] of Object.entries(summary)) {
  if (file === 'total') continue;
  if (!relative(process.cwd(), file).startsWith('src/engine/')) continue;
  covered += s.lines.covered;
  total += s.lines.total;
}
const pct = total ? (100 * covered) / total : 100;
console.log(`src/engine line coverage: ${pct.toFixed(1)}% (${covered}/${total}), bar ${BAR}%`);
if (pct < BAR) {
  console.error(`src/engine line coverage ${pct.toFixed(1)}% is below the ${BAR}% bar`);
  process.exit(1);
}
