import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../../../src/engine/errors';
import { connectFarm } from '../../../src/engine/farm/farm-queue';
import { FARM_PASSWORD_ENV } from '../../../src/protocol/cli-options';
import { basicClip, freshDir, runCli, startCli } from '../engine/helpers';
import { deterministicArgs } from '../resume/helpers';
import { type RedisServer, startRedis } from './redis-harness';

const PASSWORD = 'env-only-pw';

/** The password out of the URL, in HUAJU4K_FARM_PASSWORD: how the VS Code extension passes its SecretStorage's. */
describe('farm: the Redis password from HUAJU4K_FARM_PASSWORD, never in argv', function () {
  this.timeout(600000);
  let redis: RedisServer;
  let bare: string;
  before(async () => {
    redis = await startRedis(PASSWORD);
    bare = `redis://127.0.0.1:${redis.port}`;
  });
  after(async () => {
    await redis?.stop();
  });

  it('connectFarm: a URL without a password connects with the one given apart, and is refused without it', async () => {
    const ok = await connectFarm(bare, 5000, PASSWORD);
    assert.equal(await ok.ping(), 'PONG');
    ok.disconnect();
    await assert.rejects(
      connectFarm(bare, 5000, undefined),
      (e: unknown) => e instanceof EngineError && e.reason === 'farm-unreachable' && !e.message.includes(PASSWORD),
    );
    // A password in the URL wins over the one given apart.
    const inUrl = await connectFarm(redis.url, 5000, 'not-this-one');
    assert.equal(await inUrl.ping(), 'PONG');
    inUrl.disconnect();
  });

  it('worker and coordinator with the password only in their environment run a job; without it, exit 3', async () => {
    const dir = freshDir('huaju4k-farm-pw-');
    const input = join(dir, 'in.mp4');
    copyFileSync(basicClip(6), input);
    const args = (out: string) =>
      deterministicArgs(input, join(dir, out), 3, ['--model', 'null', '--scale', '2', '--farm', bare]);
    const refused = await runCli(args('refused.mp4'), { [FARM_PASSWORD_ENV]: '' });
    assert.equal(refused.code, 3, refused.stderr);
    const env = { [FARM_PASSWORD_ENV]: PASSWORD };
    const worker = startCli(['worker', '--farm', bare, '--json'], env);
    try {
      const r = await runCli(args('farm.mp4'), env);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.events.some((e) => e.type === 'range' && e.state === 'done'));
      const started = r.events.flatMap((e) => (e.type === 'range' && e.state === 'started' ? [e.pid] : []));
      assert.ok(started.length >= 2 && started.every((pid) => pid !== undefined), `ranges started: ${started}`);
      assert.equal(new Set(started).size, 1, 'the worker ran every range on one engine (the model loaded once)');
      assert.ok(!(r.stdout + r.stderr).includes(PASSWORD), 'the password is never printed');
    } finally {
      const gone = new Promise((res) => worker.once('exit', res));
      worker.kill('SIGTERM');
      await gone;
    }
  });
});
