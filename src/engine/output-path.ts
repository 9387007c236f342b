import { access, constants } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ExitCode } from '../protocol/engine-events';
import { EngineError } from './errors';
import { containerOf } from './stream-map';

/** Name the encoder writes to until the run succeeds; a cancelled or failed run never leaves `output` itself. */
export function partialPathFor(output: string): string {
  const ext = extname(output);
  return join(dirname(output), `${basename(output, ext)}.partial${ext}`);
}

/** Refuses an output that would overwrite the input, has no known container, or lies in a folder it cannot write. */
export async function checkOutputPath(input: string, output: string): Promise<void> {
  if (resolve(input) === resolve(output)) {
    throw new EngineError(
      ExitCode.badInput,
      'output-is-input',
      `output would overwrite the input: ${output}`,
      'choose another -o',
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
