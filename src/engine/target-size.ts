import { ExitCode } from '../protocol/engine-events';
import { EngineError } from './errors';

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

export function resolveTarget(display: Size, opts: { target?: string; scale?: number }): Size {
  if (opts.target) return parseTargetOption(opts.target);
  if (opts.scale !== undefined) {
    if (!(opts.scale > 0 && opts.scale <= 16)) {
      throw new EngineError(ExitCode.badInput, 'bad-scale', `--scale must be a number in (0, 16], got ${opts.scale}`);
    }
    return scaleBy(display, opts.scale);
  }
  return fitInside(display);
}
