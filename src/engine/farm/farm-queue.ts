import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { FARM_PASSWORD_ENV } from '../../protocol/cli-options';
import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';
import type { Emit } from '../events';

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
  /**
   * The claim (farm-owner.ts ownerValue) of the coordinator that queued it. A range whose job another coordinator
   * claims now — an earlier run's flow that a Redis with its data brought back — is dropped, not run.
   */
  owner?: string;
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

/**
 * `work` (a command, BullMQ's close), or undefined as soon as the connection is not (or no longer) ready: with
 * `maxRetriesPerRequest: null` a command waits for a Redis that is away for as long as it is away, maybe forever.
 */
export async function unlessRedisAway<T>(redis: Redis, work: Promise<T>): Promise<T | undefined> {
  let gone = () => {};
  const away = new Promise<undefined>((resolve) => {
    gone = () => resolve(undefined);
    if (redis.status !== 'ready') gone();
    else redis.once('close', gone);
  });
  try {
    return await Promise.race([work, away]);
  } finally {
    redis.off('close', gone);
  }
}

/** The connection's end: a polite QUIT where Redis answers, else dropped (a QUIT would wait for it). */
export async function closeFarm(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => undefined);
  else redis.disconnect();
}

/**
 * Says once per outage that the farm's Redis went away (and that it is back), and returns the listener for BullMQ's
 * objects' `error` events: while Redis is away they report every failed reconnect (BullMQ prints them to stderr when
 * nobody listens), which the outage warning already said; other errors become `code` warnings.
 */
export function watchFarm(redis: Redis, url: string, emit: Emit, code: string): (err: Error) => void {
  let away = false;
  let why = '';
  redis.on('error', (err: NodeJS.ErrnoException) => {
    why ||= err.code ?? err.message;
  });
  redis.on('close', () => {
    // Closed on purpose (quit, disconnect): no outage. ioredis sets the status before it emits the event.
    if (away || redis.status === 'end') return;
    away = true;
    // The error that closed it comes first when there is one (ECONNREFUSED, ECONNRESET); a server's stop has none.
    setImmediate(() => {
      const message = `the farm's Redis at ${redactUrl(url)} stopped answering${why ? ` (${why})` : ''}: waiting for it to come back`;
      emit({ type: 'warning', code: 'farm-redis-away', message });
    });
  });
  redis.on('ready', () => {
    if (!away) return;
    away = false;
    why = '';
    emit({ type: 'warning', code: 'farm-redis-back', message: `the farm's Redis at ${redactUrl(url)} answers again` });
  });
  return (err) => {
    if (redis.status === 'ready') emit({ type: 'warning', code, message: err.message });
  };
}
