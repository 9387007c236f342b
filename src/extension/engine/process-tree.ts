import { spawnSync } from 'node:child_process';

/**
 * Signals a process and everything it started. On POSIX the engine is forked as the leader of its own process
 * group (`detached: true`), so ffmpeg and any other child share its group id and one `kill(-pgid)` reaches all.
 * On Windows `taskkill /T` walks the tree.
 */
export function killProcessTree(pid: number, signal: NodeJS.Signals): void {
  if (process.platform === 'win32') {
    spawnSync('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
    return;
  }
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** True while any process of the group is alive (signal 0 probes without delivering anything). */
export function processGroupAlive(pid: number): boolean {
  if (process.platform === 'win32') {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
