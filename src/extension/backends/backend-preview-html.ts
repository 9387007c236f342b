/**
 * The backend preview webview's page (pure, so its CSP is unit-tested): one image replaced by the newest frame the
 * extension host relays, and a status line. Only a nonce'd script and style run; images only as data: URLs.
 */
import { escapeHtml } from '../webview-html';

export interface PreviewFrameMessage {
  type: 'frame';
  /** base64 JPEG */
  jpeg: string;
  seq: number | null;
  /** Milliseconds between the hub accepting the frame and the host relaying it, when the hub sent a header. */
  latencyMs: number | null;
}

export interface PreviewStatusMessage {
  type: 'status';
  text: string;
}

export type PreviewMessage = PreviewFrameMessage | PreviewStatusMessage;

export function renderPreviewHtml(opts: { nonce: string; title: string }): string {
  const { nonce } = opts;
  const csp = ["default-src 'none'", 'img-src data:', `style-src 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`].join(
    '; ',
  );
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(opts.title)}</title>
<style nonce="${nonce}">
  body { margin: 0; padding: 8px; color: var(--vscode-foreground); font-family: var(--vscode-font-family);
         font-size: var(--vscode-font-size); background: var(--vscode-editor-background); }
  #status { margin-bottom: 6px; color: var(--vscode-descriptionForeground); }
  #frame { max-width: 100%; max-height: calc(100vh - 48px); display: block; background: #000; }
  #frame[hidden] { display: none; }
</style>
</head>
<body>
<div id="status" role="status" aria-live="polite">Connecting…</div>
<img id="frame" alt="${escapeHtml(opts.title)}" hidden>
<script nonce="${nonce}">
  const img = document.getElementById('frame');
  const status = document.getElementById('status');
  let frames = 0;
  window.addEventListener('message', (e) => {
    const m = e.data;
    if (!m || typeof m !== 'object') return;
    if (m.type === 'frame' && typeof m.jpeg === 'string') {
      frames++;
      img.src = 'data:image/jpeg;base64,' + m.jpeg;
      img.hidden = false;
      const seq = typeof m.seq === 'number' ? ' · hub frame ' + m.seq : '';
      const lat = typeof m.latencyMs === 'number' ? ' · ' + Math.round(m.latencyMs) + ' ms behind the hub' : '';
      status.textContent = 'Live' + seq + lat + ' · ' + frames + ' shown';
    } else if (m.type === 'status' && typeof m.text === 'string') {
      status.textContent = m.text;
    }
  });
</script>
</body>
</html>`;
}
