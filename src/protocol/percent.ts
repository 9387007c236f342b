/**
 * The one rule for a progress percentage, shared by the Videos tree, the status bar and the monitor so they never
 * disagree: floored (99.6 % is "99%", never "100%" before the last frame), clamped to 0..100, `digits` decimals.
 */
export function percentFloor(fraction: number, digits = 0): number {
  if (!Number.isFinite(fraction)) return 0;
  const scale = 10 ** digits;
  // The epsilon keeps exact values (0.29 × 100 = 28.999…) on their own step.
  const floored = Math.floor(fraction * 100 * scale + 1e-9) / scale;
  return Math.min(100, Math.max(0, floored));
}
