import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file in a job's work folder that holds the pid of the engine working there. */
export const LOCK_NAME = 'lock';

/** True while a process with this pid exists (EPERM: it exists but belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of a live engine working in the work folder `dir` right now (its lock), else undefined. */
export function runningEngine(dir: string): number | undefined {
  let holder = 0;
  try {
    holder = Number.parseInt(readFileSync(join(dir, LOCK_NAME), 'utf8'), 10) || 0;
  } catch {
    return undefined;
  }
  return holder > 0 && processAlive(holder) ? holder : undefined;
}
