import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
  /** Stops it (SIGTERM) and keeps its folder: `restart` starts it again, empty (no persistence) or with its data. */
  halt(): Promise<void>;
  /** Stops it (SIGTERM) and starts a new one on the same port: empty, or with its data where it persists. */
  restart(): Promise<void>;
}

/** Certificates for a TLS Redis (`tls`): the server's, and the CA a client must trust (NODE_EXTRA_CA_CERTS). */
export interface RedisTls {
  cert: string;
  key: string;
  ca: string;
}

function spawnRedis(args: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  return new Promise<ChildProcess>((resolve, reject) => {
    const early = (code: number | null) => reject(new Error(`redis-server exited (${code}): ${log}`));
    child.once('error', reject);
    child.once('exit', early);
    const starting = (d: string) => {
      log += d;
      if (!log.includes('Ready to accept connections')) return;
      // Only this listener goes: a later 'exit' listener (stop, restart) must still hear the end.
      child.off('exit', early);
      child.stdout?.off('data', starting).resume();
      child.stderr?.resume();
      resolve(child);
    };
    child.stdout?.setEncoding('utf8').on('data', starting);
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

/**
 * A real redis-server (Debian's package, installed by .ci/run) on a free port with its files in a temp folder,
 * no persistence unless `persist` (an append-only file: stopped with SIGTERM and started again, it has its data);
 * resolves once it accepts connections. With `tls` it listens for TLS only (rediss://).
 */
export async function startRedis(password?: string, tls?: RedisTls, persist = false): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'huaju4k-redis-'));
  const listen = tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const args = [...listen, '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', persist ? 'yes' : 'no'];
  if (tls) args.push('--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca);
  if (password) args.push('--requirepass', password);
  const auth = password ? `:${encodeURIComponent(password)}@` : '';
  const server: RedisServer = {
    url: `${tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`,
    port,
    process: await spawnRedis(args),
    stop: async () => {
      await stopProcess(server.process);
      rmSync(dir, { recursive: true, force: true });
    },
    halt: () => stopProcess(server.process),
    restart: async () => {
      await stopProcess(server.process);
      server.process = await spawnRedis(args);
    },
  };
  return server;
}
