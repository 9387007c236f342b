/**
 * The monitor's HTML shell. Everything runs from the bundle: one stylesheet and one nonce'd script, both from the
 * extension's dist folder. The CSP allows nothing else: no inline script or style, no remote hosts, no eval;
 * images only from the webview's own resources and data:/blob: URLs (the preview frames).
 */
import { escapeHtml } from '../webview-html';

export interface MonitorHtmlParts {
  /** `webview.cspSource` */
  cspSource: string;
  nonce: string;
  /** `asWebviewUri(dist/webview.js)` as a string */
  scriptUri: string;
  /** `asWebviewUri(dist/webview.css)` as a string */
  styleUri: string;
  /** The same bundle serves the compare view (`data-page="compare"`); the monitor by default. */
  page?: 'monitor' | 'compare';
  title?: string;
}

export function monitorCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data: blob:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function renderMonitorHtml(parts: MonitorHtmlParts): string {
  if (!/^[A-Za-z0-9_-]{16,}$/.test(parts.nonce))
    throw new Error('monitor: the CSP nonce must be 16+ url-safe characters');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(monitorCsp(parts.cspSource, parts.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${escapeHtml(parts.styleUri)}">
<title>${escapeHtml(parts.title ?? 'huaju4k Monitor')}</title>
</head>
<body data-page="${parts.page ?? 'monitor'}">
<noscript>The huaju4k monitor needs scripts enabled in webviews.</noscript>
<script nonce="${parts.nonce}" src="${escapeHtml(parts.scriptUri)}"></script>
</body>
</html>
`;
}
