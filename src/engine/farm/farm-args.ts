import { MAX_LOCAL_WORKERS } from '../../protocol/cli-options';
import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';

/** Which whole segments a range covers: [firstSegment, endSegment), or from firstSegment to the job's end (`last`). */
export interface RangeSpec {
  firstSegment: number;
  endSegment: number;
  last: boolean;
}

/** The enhance options that split a job (farm/): local worker processes, devices, one range, or a BullMQ farm. */
export interface FarmArgs {
  /** Engine children on this machine, each taking the next range when it finishes one. */
  workers?: number;
  /** One child per GPU index (HUAJU4K_GPU of that child: device/gpu-choice.ts). */
  devices?: string[];
  /** Run only this range of the job. */
  range?: RangeSpec;
  /**
   * `--range -`: a long-lived range engine (what --workers and a farm worker start): the model is loaded once, then
   * the ranges to run are read from stdin, one `first:end` a line (farm/range-server.ts).
   */
  rangesFromStdin?: boolean;
  /** redis:// or rediss:// URL of a BullMQ farm. */
  farm?: string;
  /** How many ranges the job is cut into (default: 2 per local worker, 1 for a single one; FARM_RANGES on a farm). */
  ranges?: number;
}

const usage = (message: string) => new EngineError(ExitCode.badInput, 'usage', message, 'see huaju4k --help');

/** `3:5` (segments 3 and 4) or `3:` (segment 3 to the end). */
export function parseRangeSpec(text: string): RangeSpec {
  const m = /^(\d+):(\d*)$/.exec(text);
  const first = Number(m?.[1]);
  const end = m?.[2] ? Number(m[2]) : undefined;
  if (!m || (end !== undefined && end <= first)) {
    throw usage(`--range takes first:end segments (3:5) or first: (to the end), got "${text}"`);
  }
  return { firstSegment: first, endSegment: end ?? first + 1, last: end === undefined };
}

export function rangeName(r: RangeSpec): string {
  return `${r.firstSegment}:${r.last ? '' : r.endSegment}`;
}

/** A Redis URL, checked for its scheme only (the client says what else is wrong). */
function farmUrl(text: string): string {
  if (!/^rediss?:\/\/[^/]/.test(text)) throw usage('--farm takes a Redis URL: redis://host:6379 or rediss://…');
  return text;
}

function count(name: string, text: string | undefined, max: number): number | undefined {
  const n = text === undefined ? undefined : Number(text);
  if (n !== undefined && !(Number.isInteger(n) && n >= 1 && n <= max)) {
    throw usage(`--${name} must be an integer from 1 to ${max}, got "${text}"`);
  }
  return n;
}

export function farmArgs(
  str: (name: 'workers' | 'devices' | 'range' | 'farm' | 'ranges') => string | undefined,
): FarmArgs {
  const n = count('workers', str('workers'), MAX_LOCAL_WORKERS);
  const devices = str('devices');
  const range = str('range');
  const farm = str('farm');
  const ids = devices?.split(',').map((d) => d.trim());
  if (ids && (ids.length === 0 || ids.some((d) => !/^\d+$/.test(d)))) {
    throw usage(`--devices takes device numbers separated by commas (0,1), got "${devices}"`);
  }
  if ([n, ids, farm].filter((x) => x !== undefined).length > 1) {
    throw usage('use one of --workers, --devices and --farm');
  }
  return {
    workers: n,
    devices: ids,
    range: range === undefined || range === '-' ? undefined : parseRangeSpec(range),
    rangesFromStdin: range === '-' || undefined,
    farm: farm === undefined ? undefined : farmUrl(farm),
    ranges: count('ranges', str('ranges'), 100000),
  };
}

/** The options that split a job, removed from an argv: what a range's engine is started with instead. */
export function withoutFarmOptions(argv: readonly string[]): string[] {
  const out: string[] = [];
  const dropped = ['--workers', '--devices', '--farm', '--range', '--ranges', '--resume', '--json'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return [...out, ...argv.slice(i)];
    const name = a.split('=')[0];
    if (!dropped.includes(name)) out.push(a);
    else if (!a.includes('=') && name !== '--resume' && name !== '--json') i++;
  }
  return out;
}
