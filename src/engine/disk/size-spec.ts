/** A disk budget as given: a multiple of the input size (`4x`) or an absolute size (`20G`, `500M`, bytes). */
export type BudgetSpec = { multiple: number } | { bytes: number };

const UNITS: Record<string, number> = { '': 1, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** `20G`, `1.5GiB`, `500M`, `4096` → bytes; undefined when the text is not a size. */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]) * (UNITS[m[2].toUpperCase()] ?? 1);
  return Number.isFinite(n) ? Math.round(n) : undefined;
}

export function parseBudgetSpec(text: string): BudgetSpec | undefined {
  const mult = /^\s*(\d+(?:\.\d+)?)\s*x\s*$/i.exec(text);
  if (mult) {
    const n = Number(mult[1]);
    return n > 0 ? { multiple: n } : undefined;
  }
  const bytes = parseBytes(text);
  return bytes !== undefined && bytes > 0 ? { bytes } : undefined;
}
