// Colour helpers for the canvas charts (kept apart from uPlot so they test in plain Node).

/** '#rrggbb' / '#rgb' / '#rrggbbaa' with an alpha; other syntaxes get no fill rather than a wrong one. */
export function withAlpha(color: string, alpha: number): string | undefined {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(color.trim());
  if (!m) return undefined;
  let hex = m[1];
  if (hex.length === 3) hex = [...hex].map((c) => c + c).join('');
  const [r, g, b] = [0, 2, 4].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}
