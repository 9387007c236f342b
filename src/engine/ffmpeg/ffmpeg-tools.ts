import { spawnSync } from 'node:child_process';
import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';

/** Leading ffmpeg arguments of every engine child: no stdin reading, no banner, errors only on stderr. */
export const FFMPEG_QUIET = ['-nostdin', '-hide_banner', '-loglevel', 'error'] as const;

export interface FfmpegTools {
  ffmpeg: string;
  ffprobe: string;
  /** First line of `ffmpeg -version`. */
  version: string;
}

export interface FfmpegToolOptions {
  /** Explicit paths (e.g. the `huaju4k.ffmpegPath` setting); win over the environment. */
  ffmpeg?: string;
  ffprobe?: string;
  env?: NodeJS.ProcessEnv;
}

const INSTALL_HINT =
  'install ffmpeg (Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install ffmpeg; Windows: winget install ffmpeg), ' +
  'or point HUAJU4K_FFMPEG / HUAJU4K_FFPROBE (setting huaju4k.ffmpegPath) at the binaries';

function versionOf(bin: string): string | undefined {
  const r = spawnSync(bin, ['-version'], { encoding: 'utf8', timeout: 15000, stdio: ['ignore', 'pipe', 'ignore'] });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.split('\n')[0]?.trim() || undefined;
}

let cached: { key: string; tools: FfmpegTools } | undefined;

/**
 * Set by a process that has just checked the same ffmpeg and ffprobe (`HUAJU4K_FFMPEG`/`HUAJU4K_FFPROBE` set to
 * them) for its engine children — a split job's range engines: the version line it found. Each child then skips
 * running both with `-version` again.
 */
export const TOOLS_CHECKED_ENV = 'HUAJU4K_FFMPEG_CHECKED';

/** The environment that hands `tools`, checked, to an engine child (see TOOLS_CHECKED_ENV). */
export function checkedToolsEnv(tools: FfmpegTools): NodeJS.ProcessEnv {
  return { HUAJU4K_FFMPEG: tools.ffmpeg, HUAJU4K_FFPROBE: tools.ffprobe, [TOOLS_CHECKED_ENV]: tools.version };
}

/**
 * Finds ffmpeg and ffprobe: explicit option, then HUAJU4K_FFMPEG / HUAJU4K_FFPROBE, then PATH. Each is run once with
 * `-version` so a broken binary fails here, with an install hint, instead of in the middle of a job.
 */
export function findFfmpegTools(opts: FfmpegToolOptions = {}): FfmpegTools {
  const env = opts.env ?? process.env;
  const ffmpeg = opts.ffmpeg || env.HUAJU4K_FFMPEG || 'ffmpeg';
  const ffprobe = opts.ffprobe || env.HUAJU4K_FFPROBE || 'ffprobe';
  const key = `${ffmpeg}\0${ffprobe}\0${env.PATH ?? ''}`;
  if (cached?.key === key) return cached.tools;
  const checked = env[TOOLS_CHECKED_ENV];
  if (checked && !opts.ffmpeg && !opts.ffprobe && env.HUAJU4K_FFMPEG && env.HUAJU4K_FFPROBE) {
    return { ffmpeg, ffprobe, version: checked };
  }
  const version = versionOf(ffmpeg);
  if (!version) {
    throw new EngineError(
      ExitCode.environment,
      'ffmpeg-missing',
      `ffmpeg not found or not runnable: ${ffmpeg}`,
      INSTALL_HINT,
    );
  }
  if (!versionOf(ffprobe)) {
    throw new EngineError(
      ExitCode.environment,
      'ffprobe-missing',
      `ffprobe not found or not runnable: ${ffprobe}`,
      INSTALL_HINT,
    );
  }
  const tools = { ffmpeg, ffprobe, version };
  cached = { key, tools };
  return tools;
}
