/** `huaju4k hub` entry. Placeholder until the stream hub lands; returns the process exit code. */
export async function runHubCommand(_args: string[]): Promise<number> {
  process.stderr.write('huaju4k hub: not implemented yet\n');
  return 1;
}
