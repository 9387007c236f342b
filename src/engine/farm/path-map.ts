import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';

/** `--path-map from=to`: a prefix as the coordinator writes paths, and the same folder on this host. */
export interface PathMapping {
  from: string;
  to: string;
}

export function parsePathMap(text: string): PathMapping {
  const i = text.indexOf('=');
  if (i <= 0 || i === text.length - 1) {
    throw new EngineError(
      ExitCode.badInput,
      'usage',
      `--path-map takes coordinator-prefix=local-prefix (/mnt/nas=/Volumes/nas), got "${text}"`,
      'see huaju4k worker --help',
    );
  }
  return { from: text.slice(0, i).replace(/\/+$/, ''), to: text.slice(i + 1).replace(/\/+$/, '') };
}

/** The path on this host: the longest matching prefix replaced (whole path components only); else unchanged. */
export function mapPath(path: string, maps: readonly PathMapping[]): string {
  let best: PathMapping | undefined;
  for (const m of maps) {
    const under = path === m.from || path.startsWith(`${m.from}/`);
    if (under && (!best || m.from.length > best.from.length)) best = m;
  }
  return best ? best.to + path.slice(best.from.length) : path;
}
