import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { EngineError } from '../../../src/engine/errors';
import { claimFarmJob } from '../../../src/engine/farm/farm-coordinator';
import { OWNER_TTL_MS, ownerValue } from '../../../src/engine/farm/farm-owner';
import { farmJobKey, ownerKey } from '../../../src/engine/farm/farm-queue';
import { type RedisServer, startRedis } from './redis-harness';

/**
 * The coordinator's claim in Redis: what refuses a second coordinator of the same output when the job's lock file
 * cannot (it names a pid of another host). On one machine the lock refuses first (bullmq-farm.test.ts), so the claim
 * is tested here on its own, against a real redis-server.
 */
describe('farm: the coordinator’s claim of an output in Redis', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  const clients: Redis[] = [];
  const client = () => {
    const c = new Redis(redis.url, { maxRetriesPerRequest: null });
    clients.push(c);
    return c;
  };
  before(async () => {
    redis = await startRedis('claim-pw');
  });
  after(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await redis?.stop();
  });

  it('a second claim of the same output is refused naming the holder; released, the output can be claimed again', async () => {
    const output = '/nas/films/play.4k.mp4';
    const release = await claimFarmJob(client(), output);
    await assert.rejects(claimFarmJob(client(), output), (e) => {
      assert.ok(e instanceof EngineError);
      assert.equal(e.reason, 'farm-job-running');
      assert.match(e.message, new RegExp(`another coordinator \\(\\S+/${process.pid}\\) is running the farm job`));
      return true;
    });
    // Another output is free meanwhile.
    const other = await claimFarmJob(client(), '/nas/films/other.4k.mp4');
    await release();
    const again = await claimFarmJob(client(), output);
    await again();
    await other();
  });

  it('a claim whose coordinator provably ended (this host, its pid gone) is taken over; a live or foreign one is not', async () => {
    const output = '/nas/films/left.4k.mp4';
    const key = ownerKey(farmJobKey(output));
    const c = client();
    // A coordinator that ended without giving the claim back (stopped while Redis was away, which kept its data).
    const ended = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => ended.once('exit', resolve));
    const pid = ended.pid ?? 0;
    await c.set(key, ownerValue(pid), 'PX', OWNER_TTL_MS);
    const release = await claimFarmJob(client(), output);
    assert.equal(await c.get(key), ownerValue(), 'taken over at once, not after the claim lapses');
    await release();
    // A coordinator still running (this test's own process) keeps it.
    await c.set(key, ownerValue(process.pid), 'PX', OWNER_TTL_MS);
    await assert.rejects(claimFarmJob(client(), output), /another coordinator/);
    // Another host's (or another pid namespace's) claim cannot be checked: refused, saying when it lapses.
    await c.set(key, `elsewhere/${pid} other-boot:pid:[1]`, 'PX', OWNER_TTL_MS);
    await assert.rejects(claimFarmJob(client(), output), (e) => {
      assert.ok(e instanceof EngineError);
      assert.equal(e.reason, 'farm-job-running');
      assert.match(e.message, /another coordinator \(elsewhere\/\d+\)/);
      assert.match(e.hint ?? '', /frees it within (29|30) s/);
      return true;
    });
    await c.del(key);
  });
});
