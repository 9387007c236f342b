import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';
import { farmJobKey, ownerKey } from './farm-queue';

/** The claim's lifetime: renewed every third of it while the coordinator runs, so it lapses soon after it stops. */
export const OWNER_TTL_MS = 30000;

/**
 * Where this process's pid means something: the boot (Linux's boot_id) and the pid namespace (a container has its
 * own). Two coordinators with the same scope and host name see the same processes, so one can tell whether the
 * other's pid still runs. undefined where it cannot be told (no /proc): no claim is then taken over.
 */
function processScope(): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return `${boot}:${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return undefined;
  }
}

/** The claim's value: `host/pid` (what messages show), then the process scope. */
export function ownerValue(pid = process.pid): string {
  const scope = processScope();
  return `${hostname()}/${pid}${scope ? ` ${scope}` : ''}`;
}

/** The part of a claim that messages show: `host/pid`. */
export const shownOwner = (holder: string): string => holder.split(' ')[0];

/**
 * Whether the coordinator that holds `holder` has certainly ended: it ran on this host, in this boot and pid
 * namespace, and its pid is gone. A pid in use (maybe by another process) or another host's claim proves nothing.
 */
export function ownerGone(holder: string): boolean {
  const [who, scope] = holder.split(' ');
  const mine = processScope();
  const slash = who.lastIndexOf('/');
  const pid = Number(who.slice(slash + 1));
  if (!scope || !mine || scope !== mine || who.slice(0, slash) !== hostname() || !Number.isInteger(pid)) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Replaces the claim only if it still holds `holder` (nobody took it meanwhile), in one step on the server. */
const REPLACE_IF = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return false`;

/**
 * Takes the output for this coordinator before anything is opened or queued (another host's lock file in the shared
 * work folder names a pid this host cannot check); refused when another coordinator holds it. A claim whose
 * coordinator provably ended (ownerGone: stopped while Redis was away, it could not give it back, and a Redis that
 * kept its data brought it back) is taken over at once instead of waiting for it to lapse. Returns the release.
 */
export async function claimFarmJob(redis: Redis, output: string): Promise<() => Promise<void>> {
  const key = ownerKey(farmJobKey(output));
  const me = ownerValue();
  let got = (await redis.set(key, me, 'PX', OWNER_TTL_MS, 'NX')) === 'OK';
  const holder = got ? undefined : await redis.get(key);
  if (!got && holder && ownerGone(holder))
    got = (await redis.eval(REPLACE_IF, 1, key, holder, me, OWNER_TTL_MS)) === 'OK';
  if (!got) {
    const left = Math.max(0, Math.ceil((await redis.pttl(key)) / 1000));
    throw new EngineError(
      ExitCode.badInput,
      'farm-job-running',
      `another coordinator (${holder ? shownOwner(holder) : 'unknown'}) is running the farm job for ${output}`,
      `wait for it to finish or cancel it first (a coordinator that stopped without giving the job back, on ` +
        `another host, frees it within ${left} s)`,
    );
  }
  // A Redis restarted without its data lost the key: taken again (unless another coordinator took it meanwhile).
  const keep = async () => {
    if ((await redis.pexpire(key, OWNER_TTL_MS)) === 0) await redis.set(key, me, 'PX', OWNER_TTL_MS, 'NX');
  };
  const refresh = setInterval(() => keep().catch(() => undefined), OWNER_TTL_MS / 3);
  return async () => {
    clearInterval(refresh);
    await redis.del(key).catch(() => 0);
  };
}
