/** Runs the hub CLI in its own process so the bench measures the hub's CPU and RSS alone. */
import { runHubCommand } from '../../../src/hub/cli';

runHubCommand(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
