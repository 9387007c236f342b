/**
 * Mocha inside the real extension host (loaded through `extensionTestsPath`). The tests are bundled into this
 * file by test/e2e/build.mjs; the report goes to the console and to a file the launcher prints, so the runner's
 * output carries mocha's own "N passing / N failing" lines.
 */
import { appendFileSync } from 'node:fs';
import { format } from 'node:util';
import Mocha from 'mocha';
import { e2eConfig } from './config';

export async function run(): Promise<void> {
  const cfg = e2eConfig();
  const log = (...args: unknown[]) => {
    const line = format(...args);
    appendFileSync(cfg.reportFile, `${line}\n`);
    console.log(line);
  };
  Mocha.reporters.Base.consoleLog = log;
  Mocha.reporters.Base.useColors = false;
  const mocha = new Mocha({ ui: 'bdd', timeout: 180_000, color: false, reporter: 'spec', grep: cfg.grep });
  mocha.suite.emit('pre-require', globalThis, 'extension-host', mocha);
  // Loaded after the globals exist (esbuild keeps these lazy).
  require('./enhance.test');
  require('./resume.test');
  require('./backends.test');
  require('./batch.test');
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} extension-host test(s) failed`);
}
