import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JobJournal } from '../../../src/extension/jobs/job-journal';
import { JobManager } from '../../../src/extension/jobs/job-manager';
import { buildEnhanceArgs, engineEnv, farmSecretEnv, readSettings } from '../../../src/extension/settings';
import { FARM_PASSWORD_ENV } from '../../../src/protocol/cli-options';
import { basicClip, freshDir, startCli } from '../engine/helpers';
import { type RedisServer, startRedis } from '../farm/redis-harness';
import { memoryStore } from './memory-store';

const PASSWORD = 'keychain-only-pw';
const ENGINE = fileURLToPath(new URL('../../../src/engine/cli.ts', import.meta.url));

/** Enhance on Farm's request, as enqueue() builds it from the settings (the URL without the password). */
function farmJob(jobs: JobManager, redis: RedisServer, input: string, output: string) {
  const values: Record<string, unknown> = {
    model: 'null',
    scale: 2,
    segmentFrames: 3,
    executionProvider: 'cpu',
    'farm.url': `redis://127.0.0.1:${redis.port}`,
  };
  const settings = readSettings((k) => values[k]);
  const args = buildEnhanceArgs({ input, output, farm: true }, settings);
  const env = { ...engineEnv(settings), NODE_OPTIONS: '--import tsx' };
  return jobs.enqueue({ input, output, args, env, device: 'farm' });
}

/** The engine's command line and environment as the OS has them, read while it runs. */
function procOf(pid: number): { cmdline: string; environ: string } {
  return {
    cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8'),
    environ: readFileSync(`/proc/${pid}/environ`, 'utf8'),
  };
}

/**
 * Enhance on Farm as the extension runs it: settings → argv (`--farm` with the URL alone), the password from
 * SecretStorage added to the engine's environment at spawn time by the job manager; a real engine, a real worker,
 * a real redis-server with requirepass.
 */
describe('job manager: a farm job gets the password in its environment only', function () {
  this.timeout(600000);
  let redis: RedisServer;
  let worker: ChildProcess | undefined;
  let dir: string;
  let input: string;
  before(async () => {
    redis = await startRedis(PASSWORD);
    dir = freshDir('huaju4k-farm-job-');
    input = join(dir, 'in.mp4');
    copyFileSync(basicClip(6), input);
  });
  after(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      const gone = new Promise((r) => worker?.once('exit', r));
      worker.kill('SIGTERM');
      await gone;
    }
    await redis?.stop();
  });

  it('the job runs on the farm; the password is in the engine environment, not its command line nor the journal', async () => {
    const store = memoryStore();
    const jobs = new JobManager({
      enginePath: ENGINE,
      perDevice: 1,
      journal: new JobJournal(store),
      secretEnv: (args) => farmSecretEnv(args, PASSWORD),
    });
    worker = startCli(['worker', '--farm', `redis://127.0.0.1:${redis.port}`, '--json'], {
      [FARM_PASSWORD_ENV]: PASSWORD,
    });
    let seen: { cmdline: string; environ: string } | undefined;
    const journaled: string[] = [];
    jobs.onDidChangeJob((j) => {
      journaled.push(JSON.stringify(store.get('huaju4k.jobs.v1') ?? null));
      if (seen || j.phase !== 'running' || !j.pid) return;
      seen = procOf(j.pid);
    });
    try {
      const job = farmJob(jobs, redis, input, join(dir, 'farm.mp4'));
      const end = await jobs.whenFinished(job.id);
      assert.equal(end.phase, 'done', JSON.stringify(end.failure));
      assert.ok(seen, 'the engine was seen running');
      assert.match(seen.cmdline, /--farm\0redis:\/\/127\.0\.0\.1:\d+\0/);
      assert.ok(!seen.cmdline.includes(PASSWORD), 'not on the command line');
      assert.ok(seen.environ.split('\0').includes(`${FARM_PASSWORD_ENV}=${PASSWORD}`), 'in the environment');
      const ranges = end.ranges ?? [];
      assert.ok(ranges.length > 0 && ranges.every((r) => r.state === 'done'), JSON.stringify(ranges));
      assert.ok(
        ranges.every((r) => r.worker.endsWith(`/${worker?.pid}`)),
        'run by the farm worker',
      );
      assert.ok(
        journaled.some((j) => j.includes('--farm')),
        'the running job was journaled (for Resume)',
      );
      assert.ok(!journaled.some((j) => j.includes(PASSWORD)), 'the password was not');
    } finally {
      await jobs.dispose();
    }
  });

  it('without the password the engine says the farm cannot be reached (exit 3), and the job failed', async () => {
    const jobs = new JobManager({ enginePath: ENGINE, perDevice: 1 });
    try {
      const end = await jobs.whenFinished(farmJob(jobs, redis, input, join(dir, 'nopw.mp4')).id);
      assert.equal(end.phase, 'failed');
      assert.equal(end.failure?.reason, 'farm-unreachable');
      assert.equal(end.failure?.exitCode, 3);
    } finally {
      await jobs.dispose();
    }
  });
});
