// Colour helpers for the canvas charts (kept apart from uPlot so they test in plain Node). Theme colours arrive as
// '#rgb', '#rrggbb', '#rrggbbaa' or 'rgb(a)(...)'; anything else is passed through untouched or gets no fill.

type Rgba = [number, number, number, number];

export function parseColor(color: string): Rgba | undefined {
  const c = color.trim();
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(c);
  if (hex) {
    let h = hex[1];
    if (h.length === 3) h = [...h].map((x) => x + x).join('');
    const n = (i: number) => Number.parseInt(h.slice(i, i + 2), 16);
    return [n(0), n(2), n(4), h.length === 8 ? n(6) / 255 : 1];
  }
  const fn = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)$/i.exec(c);
  if (fn) return [Number(fn[1]), Number(fn[2]), Number(fn[3]), fn[4] === undefined ? 1 : Number(fn[4])];
  return undefined;
}

const rgba = ([r, g, b, a]: Rgba) => `rgba(${r}, ${g}, ${b}, ${Number(a.toFixed(3))})`;

/** The colour at a fixed alpha (for area fills); undefined when the colour cannot be parsed. */
export function withAlpha(color: string, alpha: number): string | undefined {
  const p = parseColor(color);
  return p ? rgba([p[0], p[1], p[2], alpha]) : undefined;
}

/** The colour with its own alpha scaled (for grid lines lighter than the theme's chart lines). */
export function scaleAlpha(color: string, factor: number): string {
  const p = parseColor(color);
  return p ? rgba([p[0], p[1], p[2], p[3] * factor]) : color;
}
