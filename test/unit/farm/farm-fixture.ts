import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineEvent, RangeEvent } from '../../../src/protocol/engine-events';
import { basicClip, freshDir, runCli, startCli } from '../engine/helpers';
import { deterministicArgs } from '../resume/helpers';
import { type RedisServer, type RedisTls, startRedis } from './redis-harness';

export const SEGMENT = 3;
export const FRAMES = 24;
/** The null model waiting per frame, as a device would: a range lasts long enough to lose its worker midway. */
export const ENV = { HUAJU4K_NULL_DEVICE_MS: '120', HUAJU4K_PROGRESS_EVERY_MS: '0' };

export const rangeEvents = (events: EngineEvent[]): RangeEvent[] =>
  events.filter((e): e is RangeEvent => e.type === 'range');

/** A real redis-server, a clip with its local reference run, and the farm workers a test started. */
export interface Farm {
  redis: RedisServer;
  dir: string;
  input: string;
  ref: string;
  workers: ChildProcess[];
  /** What every engine process of the farm gets (ENV, and NODE_EXTRA_CA_CERTS for a TLS Redis). */
  env: NodeJS.ProcessEnv;
}

export const args = (inputPath: string, out: string, extra: string[] = []) =>
  deterministicArgs(inputPath, out, SEGMENT, ['--model', 'null', '--scale', '4', ...extra]);

export function startWorker(f: Farm, extra: string[] = [], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const w = startCli(['worker', '--farm', f.redis.url, '--lock-ms', '2000', '--json', ...extra], { ...f.env, ...env });
  f.workers.push(w);
  return w;
}

/**
 * A farm for the tests of the current describe (mocha hooks): Redis (with an append-only file where `persist`)
 * started before, workers and Redis stopped after.
 */
export function useFarm(password: string, tls?: () => RedisTls, persist = false): Farm {
  const f = { workers: [], env: { ...ENV } } as unknown as Farm;
  before(async () => {
    f.dir = freshDir('huaju4k-farm-bullmq-');
    const certs = tls?.();
    f.redis = await startRedis(password, certs, persist);
    if (certs) f.env.NODE_EXTRA_CA_CERTS = certs.ca;
    f.input = join(f.dir, 'in.mp4');
    copyFileSync(basicClip(FRAMES), f.input);
    f.ref = join(f.dir, 'ref.mp4');
    const local = await runCli(args(f.input, f.ref), ENV);
    assert.equal(local.code, 0, local.stderr);
  });
  afterEach(() => {
    for (const w of f.workers.splice(0)) if (w.exitCode === null && w.signalCode === null) w.kill('SIGTERM');
  });
  after(async () => {
    await f.redis?.stop();
  });
  return f;
}
