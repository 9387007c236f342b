import { ExitCode } from '../../protocol/engine-events';
import { EngineError } from '../errors';

export interface Size {
  width: number;
  height: number;
}

export const UHD: Size = { width: 3840, height: 2160 };

const evenFloor = (x: number): number => Math.max(2, Math.floor(x / 2 + 1e-9) * 2);
const evenRound = (x: number): number => Math.max(2, Math.round(x / 2) * 2);

/**
 * Default target: the largest even size inside `box` with the display aspect (SAR applied, square pixels out).
 * 960×540 → 3840×2160, 214×160 → 2888×2160, 720×576 at SAR 16:15 (display 768×576) → 2880×2160.
 */
export function fitInside(display: Size, box: Size = UHD): Size {
  const f = Math.min(box.width / display.width, box.height / display.height);
  return { width: evenFloor(display.width * f), height: evenFloor(display.height * f) };
}

/** `--scale n`: plain factor on the display size, rounded to even. */
export function scaleBy(display: Size, factor: number): Size {
  return { width: evenRound(display.width * factor), height: evenRound(display.height * factor) };
}

export function parseTargetOption(text: string): Size {
  const m = /^(\d+)[x×:](\d+)$/i.exec(text.trim());
  const width = m ? Number(m[1]) : 0;
  const height = m ? Number(m[2]) : 0;
  if (!m || width < 2 || height < 2 || width > 16384 || height > 16384 || width % 2 || height % 2) {
    throw new EngineError(
      ExitCode.badInput,
      'bad-target',
      `--target must be WIDTHxHEIGHT with even numbers from 2 to 16384, got "${text}"`,
      'e.g. --target 3840x2160',
    );
  }
  return { width, height };
}

/** How `--target` is used: `contain` fits the picture inside the box; `pad` keeps the box as the frame, with bars. */
export const FIT_MODES = ['contain', 'pad'] as const;
export type FitMode = (typeof FIT_MODES)[number];

export interface TargetOptions {
  target?: string;
  scale?: number;
  fit?: FitMode;
}

/** The encoded frame and the picture inside it (centred); the same size unless `--fit pad` adds bars. */
export interface OutputSize {
  frame: Size;
  picture: Size;
}

/**
 * The display size with the sample aspect ratio applied exactly (not rounded to whole pixels), so that the aspect
 * of a tiny anamorphic frame survives: 1×1 at SAR 16:9 is 1.78×1, whose 4K fit is 3840×2160, not 2:1.
 */
export function displaySize(info: { width: number; height: number; sar: [number, number] }): Size {
  const ratio = info.sar[0] > 0 && info.sar[1] > 0 ? info.sar[0] / info.sar[1] : 1;
  return ratio >= 1
    ? { width: info.width * ratio, height: info.height }
    : { width: info.width, height: info.height / ratio };
}

/**
 * `--target WxH` is a box: the picture is the largest even size inside it with the display aspect (never
 * stretched); `--fit pad` makes the box itself the frame, the picture centred on black. No target: a 3840×2160
 * box; `--scale n`: the display size × n.
 */
export function resolveOutput(display: Size, opts: TargetOptions): OutputSize {
  if (opts.scale !== undefined) {
    if (!(opts.scale > 0 && opts.scale <= 16)) {
      throw new EngineError(ExitCode.badInput, 'bad-scale', `--scale must be a number in (0, 16], got ${opts.scale}`);
    }
    if (opts.fit === 'pad') {
      throw new EngineError(ExitCode.badInput, 'bad-fit', '--fit pad needs a box: use it with --target, not --scale');
    }
    const picture = scaleBy(display, opts.scale);
    return { frame: picture, picture };
  }
  const box = opts.target ? parseTargetOption(opts.target) : UHD;
  const picture = fitInside(display, box);
  return { frame: opts.fit === 'pad' ? box : picture, picture };
}

/** The encoded frame size (see resolveOutput). */
export function resolveTarget(display: Size, opts: TargetOptions): Size {
  return resolveOutput(display, opts).frame;
}
