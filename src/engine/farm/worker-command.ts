import { parseArgs } from 'node:util';
import { commandUsage, parseOptionsOf, WORKER_COMMAND } from '../../protocol/cli-options';
import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';
import type { Emit } from '../events';
import { farmArgs } from './farm-args';
import { runFarmWorker } from './farm-worker';
import { parsePathMap } from './path-map';

const usage = (message: string) =>
  new EngineError(ExitCode.badInput, 'usage', message, `${commandUsage(WORKER_COMMAND).split('\n')[0]}`);

/** `huaju4k worker --farm URL …`: runs until SIGINT/SIGTERM, then stops its engine (the range resumes elsewhere). */
export async function workerCommand(argv: string[], emit: Emit): Promise<number> {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...parseOptionsOf(WORKER_COMMAND), 'path-map': { type: 'string', multiple: true } },
      strict: true,
    }));
  } catch (err) {
    throw usage(err instanceof Error ? err.message : String(err));
  }
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const url = farmArgs((k) => (k === 'farm' ? str('farm') : undefined)).farm;
  if (!url) throw usage('worker needs --farm redis://host:6379');
  const device = str('device');
  if (device !== undefined && !/^\d+$/.test(device)) throw usage(`--device takes a device number, got "${device}"`);
  const lockMs = Number(str('lock-ms') ?? 30000);
  if (!(Number.isInteger(lockMs) && lockMs >= 1000)) throw usage('--lock-ms must be an integer of at least 1000');
  const maps = ((values['path-map'] as string[] | undefined) ?? []).map(parsePathMap);
  const extraArgs = [
    ...(str('ep') ? ['--ep', str('ep') as string] : []),
    ...(str('threads') ? ['--threads', str('threads') as string] : []),
  ];
  const abort = new AbortController();
  const stop = (s: NodeJS.Signals) => abort.abort(s);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await runFarmWorker({ url, maps, extraArgs, device, emit, signal: abort.signal, lockMs });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return ExitCode.ok;
}
