import type { ChildProcess } from 'node:child_process';

/**
 * Every child process the engine starts is registered here so a signal, an error in another stage or the end of
 * the run can reap all of them: nothing outlives the engine.
 */
class ChildRegistry {
  private readonly live = new Set<ChildProcess>();

  add(child: ChildProcess): ChildProcess {
    this.live.add(child);
    child.once('exit', () => this.live.delete(child));
    child.once('error', () => this.live.delete(child));
    return child;
  }

  get size(): number {
    return this.live.size;
  }

  /** SIGKILL now; ffmpeg children hold nothing worth flushing once the run is abandoned. */
  killAll(signal: NodeJS.Signals = 'SIGKILL'): void {
    for (const c of this.live) {
      if (c.exitCode === null && c.signalCode === null) c.kill(signal);
    }
  }

  /** Resolves when every registered child has exited. */
  async reaped(): Promise<void> {
    await Promise.all(
      [...this.live].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) resolve();
            else c.once('exit', () => resolve());
          }),
      ),
    );
  }
}

export const children = new ChildRegistry();
