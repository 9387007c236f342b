import { access, constants, realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ExitCode } from '../../protocol/engine-events';
import { defaultOutputPath as defaultName } from '../../protocol/output-name';
import { EngineError } from '../errors';
import { containerOf } from '../ffmpeg/stream-map';

/** Name the encoder writes to until the run succeeds; a cancelled or failed run never leaves `output` itself. */
export function partialPathFor(output: string): string {
  const ext = extname(output);
  return join(dirname(output), `${basename(output, ext)}.partial${ext}`);
}

/** The same file, whatever the spelling: equal real paths (symlinks resolved) or one inode (hard links). */
async function sameFile(a: string, b: string): Promise<boolean> {
  if (resolve(a) === resolve(b)) return true;
  const [sa, sb] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  if (!sa || !sb) return false;
  if (sa.dev === sb.dev && sa.ino === sb.ino) return true;
  const [ra, rb] = await Promise.all([realpath(a).catch(() => a), realpath(b).catch(() => b)]);
  return ra === rb;
}

/**
 * Refuses, before any work, an output that would overwrite the input (also through a symlink or a hard link), is a
 * folder, has no known container, or lies in a folder it cannot write.
 */
export async function checkOutputPath(input: string, output: string): Promise<void> {
  if (await sameFile(input, output)) {
    throw new EngineError(
      ExitCode.badInput,
      'output-is-input',
      `output would overwrite the input: ${output} is the same file as ${input}`,
      'choose another -o',
    );
  }
  const existing = await stat(output).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new EngineError(
      ExitCode.badInput,
      'output-is-folder',
      `the output ${output} is an existing folder`,
      `give a file name, e.g. -o ${join(output, basename(defaultName(input)))}`,
    );
  }
  containerOf(output);
  try {
    await access(dirname(output), constants.W_OK);
  } catch {
    throw new EngineError(
      ExitCode.badInput,
      'output-unwritable',
      `cannot write to the output folder ${dirname(output)}`,
      'check that it exists and is writable, or choose another -o',
    );
  }
}

/**
 * An output that already exists is never replaced silently: only with --overwrite. `--resume` continues a checkpoint;
 * with none left and the output in place the job is already finished, and redoing it needs --overwrite too.
 */
export async function checkExistingOutput(
  output: string,
  o: { resume: boolean; overwrite: boolean; hasCheckpoint: boolean },
): Promise<void> {
  if (o.overwrite || (o.resume && o.hasCheckpoint)) return;
  const existing = await stat(output).catch(() => undefined);
  if (!existing?.isFile()) return;
  throw new EngineError(
    ExitCode.badInput,
    'output-exists',
    o.resume ? `${output} is already complete (no interrupted job left to resume)` : `${output} already exists`,
    'pass --overwrite to enhance again and replace it, or choose another -o',
  );
}
