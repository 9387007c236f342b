import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

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

/** What an engine writes into its lock: its pid, then the script it runs (to tell it from a process that took the pid). */
export function lockContent(): string {
  return `${process.pid}\n${process.argv[1] ?? ''}\n`;
}

/** The command line of a live process (Linux /proc), or undefined where it cannot be read (other systems). */
function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/**
 * Whether the live process `pid` is the engine that wrote the lock: its command line runs the script the lock names
 * (a lock from before scripts were recorded: any huaju4k engine script). After a reboot or a crash the pid may belong
 * to anything (pid 1, a shell): that lock is stale. Where command lines cannot be read, a live pid is trusted.
 */
function isEngine(pid: number, script: string | undefined): boolean {
  const argv = commandLine(pid);
  if (!argv) return true;
  const names = argv.slice(0, 8).map((a) => basename(a));
  if (script) return names.includes(basename(script));
  return argv.slice(0, 8).some((a) => /huaju4k|(^|[\\/])engine\.js$|engine[\\/]cli\.ts$/.test(a));
}

/** The pid of a live engine working in the work folder `dir` right now (its lock), else undefined. */
export function runningEngine(dir: string): number | undefined {
  let lines: string[];
  try {
    lines = readFileSync(join(dir, LOCK_NAME), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const holder = Number.parseInt(lines[0], 10) || 0;
  return holder > 0 && processAlive(holder) && isEngine(holder, lines[1] || undefined) ? holder : undefined;
}
