import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { processAlive } from '../../protocol/engine-lock';

/**
 * Which window follows a detached engine. Engines outlive their extension host (a window reload), and every window
 * that activates while one runs finds it in the journal: only one may re-attach to it (count it, cancel it, record
 * how it ended), the others show it as running in another window. The claim is a file beside the engine's events
 * file holding the pid of the extension host that follows it; a claim whose host is gone is stale and taken over.
 */
export const claimFileFor = (eventsFile: string): string => `${eventsFile}.claim`;

function holder(file: string): number | undefined {
  try {
    return Number.parseInt(readFileSync(file, 'utf8'), 10) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Claims the engine for this extension host: true when it is this host's now (a new claim, its own, or a stale one
 * taken over), false while another live host holds it. Created with O_EXCL, so of two windows claiming at once one
 * wins; a stale claim is first moved aside under a name of this host's own (a rename only one of them can make).
 */
export function claimEngine(eventsFile: string, pid = process.pid): boolean {
  const file = claimFileFor(eventsFile);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${pid}\n`, { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    }
    const owner = holder(file);
    if (owner === pid) return true;
    if (owner !== undefined && processAlive(owner)) return false;
    const aside = `${file}.stale-${pid}`;
    try {
      renameSync(file, aside);
      // Moved aside is what was read as stale; a claim made meanwhile by a live host goes back.
      const moved = holder(aside);
      if (moved !== owner && moved !== undefined && processAlive(moved)) {
        renameSync(aside, file);
        return false;
      }
      rmSync(aside, { force: true });
    } catch {
      // Another window moved it first: try again.
    }
  }
  return false;
}

/** Drops this host's claim (the engine ended, or the job was let go). */
export function releaseClaim(eventsFile: string, pid = process.pid): void {
  const file = claimFileFor(eventsFile);
  if (holder(file) === pid) rmSync(file, { force: true });
}
