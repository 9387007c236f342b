import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { FARM_PASSWORD_ENV } from '../../protocol/cli-options';
import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';

/** BullMQ queue of range jobs every farm worker takes from; each coordinator joins on a queue of its own. */
export const RANGES_QUEUE = 'huaju4k-ranges';
export const joinQueueName = (key: string): string => `huaju4k-join-${key}`;
/** Set while a job is being cancelled: workers stop its ranges (farm-worker.ts). */
export const cancelKey = (key: string): string => `huaju4k:cancel:${key}`;
/** Held by the one coordinator of an output (host/pid), refreshed while it runs. */
export const ownerKey = (key: string): string => `huaju4k:owner:${key}`;

/** What a range job carries: enough for any worker to run `enhance --range` on its own host. */
export interface RangeJobData {
  /** The farm job (one coordinator run). */
  key: string;
  /** huaju4k version of the coordinator: a worker of another version refuses (its pixels may differ). */
  engine: string;
  range: string;
  /** Paths as the coordinator sees them; each worker maps them (--path-map). */
  input: string;
  output: string;
  /** The enhance options without paths and without the ones that split a job. */
  options: string[];
}

/** What a worker reports through BullMQ's job progress. */
export interface RangeJobProgress {
  worker: string;
  state: 'started' | 'progress' | 'segment' | 'refused';
  frames: number;
  total: number;
  fps?: number;
  message?: string;
  /** The pid of the range engine on the worker's host (one engine runs range after range of a job). */
  engine?: number;
}

export function workerName(): string {
  return `${hostname()}/${process.pid}`;
}

/** The job's key: the output it makes (as the coordinator names it), so two coordinators of one output meet. */
export function farmJobKey(output: string): string {
  return createHash('sha256').update(output).digest('hex').slice(0, 16);
}

/** A Redis URL as it may be printed: no user name or password, no query (which may carry secrets). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username || u.password ? '***@' : ''}${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'the farm URL';
  }
}

/**
 * Connects to the farm's Redis (redis://, rediss:// with TLS; password in the URL or in HUAJU4K_FARM_PASSWORD) and
 * checks it answers; an unreachable one is an environment error (exit 3) before anything is queued. BullMQ needs
 * maxRetriesPerRequest: null so a Redis restart is waited out instead of failing every command.
 */
export async function connectFarm(
  url: string,
  timeoutMs = 5000,
  // The VS Code extension passes its SecretStorage's password this way; a password in the URL wins.
  password = process.env[FARM_PASSWORD_ENV] || undefined,
): Promise<Redis> {
  // ioredis takes the URL's fields first, so `password` only fills in where the URL has none.
  const options = { maxRetriesPerRequest: null, lazyConnect: true, connectTimeout: timeoutMs, password };
  const redis = new Redis(url, options);
  // The socket's own error (ECONNREFUSED, ENOTFOUND, WRONGPASS…) says more than the "Connection is closed" that follows.
  let first: Error | undefined;
  redis.on('error', (err: Error) => {
    first ??= err;
  });
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    const e = (first ?? err) as NodeJS.ErrnoException;
    const why = e.code ?? (e instanceof Error ? e.message : String(e));
    throw new EngineError(
      ExitCode.environment,
      'farm-unreachable',
      `cannot reach the farm's Redis at ${redactUrl(url)} (${why}); nothing was queued`,
      'start redis-server there (or check the host, port, password and TLS), then run again',
    );
  }
}
