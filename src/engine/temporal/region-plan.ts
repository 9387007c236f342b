/** Rectangles in tile units (column, row, columns, rows). */
export interface TileSpan {
  c: number;
  r: number;
  cols: number;
  rows: number;
}

const touches = (a: TileSpan, b: TileSpan): boolean =>
  a.c <= b.c + b.cols && b.c <= a.c + a.cols && a.r <= b.r + b.rows && b.r <= a.r + a.rows;

const union = (a: TileSpan, b: TileSpan): TileSpan => {
  const c = Math.min(a.c, b.c);
  const r = Math.min(a.r, b.r);
  return {
    c,
    r,
    cols: Math.max(a.c + a.cols, b.c + b.cols) - c,
    rows: Math.max(a.r + a.rows, b.r + b.rows) - r,
  };
};

const area = (a: TileSpan): number => a.cols * a.rows;

/**
 * Two touching rectangles are merged only when their union is at most this many times their combined area: an
 * L-shaped change (the two edges a diagonal pan uncovers) stays two thin rectangles instead of the whole frame.
 */
export const MERGE_MAX_GROWTH = 2;

/**
 * Groups the changed tiles (`changed[r·cols + c]`) into few rectangles, so the model runs once per moving area
 * instead of once per tile and pays the context padding once. Rectangles that touch or overlap (including
 * diagonally) are merged until none do, unless the union would be mostly unchanged tiles (MERGE_MAX_GROWTH);
 * unchanged tiles inside a rectangle are simply recomputed.
 */
export function groupChangedTiles(changed: Uint8Array, cols: number, rows: number): TileSpan[] {
  let spans: TileSpan[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (!changed[r * cols + c]) continue;
      // Extend the run along the row; rows of runs are merged below.
      let end = c;
      while (end + 1 < cols && changed[r * cols + end + 1]) end++;
      spans.push({ c, r, cols: end - c + 1, rows: 1 });
      c = end;
    }
  }
  for (let merged = true; merged; ) {
    merged = false;
    const next: TileSpan[] = [];
    for (const s of spans) {
      const i = next.findIndex((n) => touches(n, s) && area(union(n, s)) <= MERGE_MAX_GROWTH * (area(n) + area(s)));
      if (i >= 0) {
        next[i] = union(next[i], s);
        merged = true;
      } else next.push(s);
    }
    spans = next;
  }
  return spans;
}
