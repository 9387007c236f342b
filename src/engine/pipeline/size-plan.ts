import { ExitCode, type SizePlanInfo } from '../../protocol/engine-events';
import { formatBytes } from '../../protocol/format';
import type { PixelParams } from '../checkpoint/manifest';
import { EngineError } from '../errors';
import type { MediaInfo } from '../ffmpeg/probe';
import { displaySize, type OutputSize, resolveOutput, type Size, type TargetOptions } from './target-size';

/** Every size a frame goes through: decoder/model input → model output → final resize (and bars) → frame. */
export interface SizePlan extends OutputSize, SizePlanInfo {}

const dims = (s: Size): string => `${Math.round(s.width)}×${Math.round(s.height)}`;

/** The source's display size already reaches the picture in either dimension: the model would only be undone. */
export function reachesTarget(display: Size, out: OutputSize): boolean {
  return display.width >= out.picture.width || display.height >= out.picture.height;
}

/**
 * Refuses (exit 2) a source that already reaches the target before any work is done, unless a same-size pass was
 * asked for (`--same-size`). Running the ×4 model on it would cost minutes a frame to be resized back down.
 */
export function checkUpscaleNeeded(path: string, display: Size, out: OutputSize, sameSize: boolean): void {
  if (sameSize || !reachesTarget(display, out)) return;
  throw new EngineError(
    ExitCode.badInput,
    'already-at-target',
    `${path} is already ${dims(display)}, at or above the ${dims(out.picture)} target: nothing to upscale`,
    `choose a larger target (e.g. --target 7680x4320) or --scale 2; or add --same-size to restore it at ` +
      `${dims(out.picture)} (the model then runs on it shrunk by the model's scale)`,
  );
}

/** The source's display size and the output's, as checked; `warning`: see `checkedOutput`. */
export interface CheckedOutput {
  display: Size;
  out: OutputSize;
  warning?: { code: string; message: string };
}

/**
 * The output sizes for the source and options, after the refusal above: what the CLI checks before any work.
 * `warning`: `--same-size` on a source below the target, which is upscaled from its own size as usual.
 */
export function checkedOutput(info: MediaInfo, opts: TargetOptions & { sameSize?: boolean }): CheckedOutput {
  const display = displaySize(info);
  const out = resolveOutput(display, opts);
  checkUpscaleNeeded(info.path, display, out, !!opts.sameSize);
  if (!opts.sameSize || reachesTarget(display, out)) return { display, out };
  const message = `--same-size has no effect: ${info.path} (${dims(display)}) is below the ${dims(out.picture)} target, so it is upscaled from its own size`;
  return { display, out, warning: { code: 'same-size-unneeded', message } };
}

/**
 * Sizes for a model of `scale`: normally the model reads the source as stored (the best quality for a source below
 * the target) and its output is resized to the picture; a same-size pass on a source that reaches the target
 * shrinks it first to picture ÷ scale, so the model's output is the picture (or within a pixel of it).
 */
export function planSizes(source: Size, display: Size, out: OutputSize, scale: number, sameSize: boolean): SizePlan {
  const shrink = sameSize && reachesTarget(display, out);
  const modelInput = shrink
    ? {
        width: Math.max(1, Math.round(out.picture.width / scale)),
        height: Math.max(1, Math.round(out.picture.height / scale)),
      }
    : { width: source.width, height: source.height };
  const modelOutput = { width: modelInput.width * scale, height: modelInput.height * scale };
  return { ...out, modelInput, modelOutput, sameSize: shrink };
}

/** The plan line printed at start: what the model reads and writes, what a frame costs, and the final resize. */
export function formatPlan(plan: SizePlanInfo, source: Size, frame: Size): string {
  const { modelInput: mi, modelOutput: mo, picture } = plan;
  const scale = mi.width > 0 ? Math.round(mo.width / mi.width) : 0;
  const before = plan.sameSize ? `same-size pass: ${dims(source)} shrunk to ${dims(mi)}, model` : `model ${dims(mi)}`;
  const same = mo.width === picture.width && mo.height === picture.height;
  const resize = same ? 'no resize' : `then lanczos to ${dims(picture)}`;
  const pad = picture.width === frame.width && picture.height === frame.height ? '' : `, padded to ${dims(frame)}`;
  const bytes = formatBytes(mo.width * mo.height * 3);
  return `plan: ${before} → ${dims(mo)} (×${scale}, ${bytes} a frame), ${resize}${pad}`;
}

/** What the plan adds to the checkpoint's pixel settings: nothing for a plain fit (old checkpoints still match). */
export function sizePixelParams(plan: SizePlan): PixelParams {
  const { picture, frame, modelInput } = plan;
  const padded = picture.width !== frame.width || picture.height !== frame.height;
  return {
    ...(padded && { picture: `${picture.width}x${picture.height}` }),
    ...(plan.sameSize && { modelInput: `${modelInput.width}x${modelInput.height}` }),
  };
}
