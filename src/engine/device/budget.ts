import { parseBytes } from '../disk/size-spec';
export const GIB = 2 ** 30;
/** The seed's budget: a 6 GiB cap fits every card we target and leaves room for the desktop. */
export const DEFAULT_VRAM_BUDGET_GIB = 6;
/** Tiles are never smaller than this (the OOM fallback gives up below it); 0 means "whole frame". */
export const MIN_TILE = 64;
export const MAX_TILE = 1024;
const TILE_ALIGN = 16;
/** Keep this share of the budget for what the calibration does not see (allocator slack, the display, drivers). */
export const BUDGET_HEADROOM = 0.85;

/** `--vram-budget <GiB>` → bytes. */
export function parseVramBudget(text: string | undefined): number {
  if (text === undefined) return DEFAULT_VRAM_BUDGET_GIB * GIB;
  // A bare number is GiB (the setting's unit); with a unit it reads like every other size (1G, 1.5GiB, 512M).
  const bytes = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) * GIB : parseBytes(text);
  if (bytes === undefined || !Number.isFinite(bytes) || bytes < 0.25 * GIB || bytes > 1024 * GIB) {
    throw new RangeError(`--vram-budget must be a size from 256M to 1024G (a bare number is GiB), got "${text}"`);
  }
  return Math.round(bytes);
}

/**
 * Working memory of one model run as a function of the input's pixel count (padded tile): what the calibration
 * measures. `fixedBytes` is what any run holds (workspace, weights copies); `bytesPerPixel` the slope.
 */
export interface MemoryModel {
  fixedBytes: number;
  bytesPerPixel: number;
}

export const estimateBytes = (m: MemoryModel, pixels: number): number => m.fixedBytes + m.bytesPerPixel * pixels;

export interface TileRequest {
  width: number;
  height: number;
  /** Context the tiler adds on each side of a tile (low-res pixels). */
  pad: number;
  budgetBytes: number;
  memory: MemoryModel;
  minTile?: number;
  maxTile?: number;
}

export interface TileChoice {
  /** Tile side in low-res pixels; 0 = the whole frame in one run. */
  tile: number;
  /** Predicted working memory of the largest run at this tile. */
  estimateBytes: number;
  /** False when even the minimum tile is predicted to exceed the budget (the run may still fit: it is a guess). */
  fits: boolean;
}

/**
 * The largest tile whose predicted working memory stays within the budget (less headroom): the whole frame when it
 * fits, else the biggest square side (a multiple of 16, clamped to [minTile, maxTile]) whose padded run fits.
 */
export function tileForBudget(req: TileRequest): TileChoice {
  const minTile = req.minTile ?? MIN_TILE;
  const maxTile = req.maxTile ?? MAX_TILE;
  const usable = req.budgetBytes * BUDGET_HEADROOM;
  const whole = estimateBytes(req.memory, req.width * req.height);
  if (whole <= usable) return { tile: 0, estimateBytes: whole, fits: true };
  const padded = (side: number) => {
    const w = Math.min(side + 2 * req.pad, req.width);
    const h = Math.min(side + 2 * req.pad, req.height);
    return w * h;
  };
  const room = (usable - req.memory.fixedBytes) / req.memory.bytesPerPixel;
  let side = room > 0 ? Math.floor(Math.sqrt(room)) - 2 * req.pad : 0;
  side = Math.floor(side / TILE_ALIGN) * TILE_ALIGN;
  side = Math.min(side, maxTile, Math.max(req.width, req.height));
  side = Math.max(side, minTile);
  const estimate = estimateBytes(req.memory, padded(side));
  return { tile: side, estimateBytes: estimate, fits: estimate <= usable };
}

/**
 * What the budget can really be on a card: the cap, but no more than what is free on the device now (other
 * processes, the desktop). Without a reading (no nvidia-smi), the cap.
 */
export function effectiveBudget(budgetBytes: number, device?: { usedBytes: number; totalBytes: number }): number {
  if (!device || device.totalBytes <= 0) return budgetBytes;
  return Math.max(0, Math.min(budgetBytes, device.totalBytes - device.usedBytes));
}
