/**
 * A real `huaju4k hub` process (the CLI from source) on an OS-chosen loopback port, for the tests where the hub
 * itself must be able to die (an uncaught error in an in-process hub would take mocha down instead).
 */
import type { ChildProcess } from 'node:child_process';
import type { HubStatus } from '../../../src/protocol/hub-status';
import { startCli } from '../engine/helpers';

export interface HubProcess {
  child: ChildProcess;
  http: string;
  port: number;
  ws: (pathAndQuery: string) => string;
  stderr: () => string;
  /** The exit code once the process has ended, or undefined while it runs. */
  exitCode: () => number | null | undefined;
  status: () => Promise<HubStatus>;
  stop: () => Promise<void>;
}

const running = new Set<HubProcess>();

/**
 * Starts `huaju4k hub --port 0 --cpu …args` (or `huaju4k ai-worker --cpu …args`) with HUAJU4K_HUB_* keys from
 * `keys`; resolves once it listens.
 */
export async function startHubProcess(
  args: string[] = [],
  keys: Record<string, string | number> = {},
  command: 'hub' | 'ai-worker' = 'hub',
): Promise<HubProcess> {
  const env: NodeJS.ProcessEnv = { HUAJU4K_HUB_LOG_INTERVAL_MS: '0' };
  for (const [k, v] of Object.entries(keys)) env[`HUAJU4K_HUB_${k.toUpperCase()}`] = String(v);
  const child = startCli(
    command === 'hub' ? ['hub', '--port', '0', '--cpu', ...args] : [command, '--cpu', ...args],
    env,
  );
  let out = '';
  let err = '';
  let code: number | null | undefined;
  const ended = new Promise<void>((resolve) =>
    child.on('close', (c) => {
      code = c;
      resolve();
    }),
  );
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    void ended.then(() => reject(new Error(`hub exited (${code}) before listening: ${err}`)));
  });
  const port = Number(new URL(url).port);
  const hub: HubProcess = {
    child,
    http: url,
    port,
    ws: (p) => `ws://127.0.0.1:${port}${p}`,
    stderr: () => err,
    exitCode: () => code,
    status: async () => (await (await fetch(`${url}/api/v1/stream/status`)).json()) as HubStatus,
    stop: async () => {
      running.delete(hub);
      if (code === undefined) child.kill('SIGTERM');
      await ended;
    },
  };
  running.add(hub);
  return hub;
}

/** Stops every hub process a test started; call from afterEach. */
export async function stopHubProcesses(): Promise<void> {
  await Promise.all([...running].map((h) => h.stop()));
}
