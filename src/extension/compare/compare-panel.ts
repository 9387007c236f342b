import * as path from 'node:path';
import * as vscode from 'vscode';
import { type CompareHostMessage, type CompareInit, parseCompareWebviewMessage } from '../../protocol/compare-messages';
import { renderMonitorHtml } from '../monitor/html';
import { probeVideo } from '../videos/video-probe';
import type { VideoMeta } from '../videos/videos-model';
import { makeNonce } from '../webview-html';
import { compareSize, grabFrame } from './frame-grab';

export interface CompareTools {
  ffmpeg: string;
  ffprobe: string;
  log: vscode.LogOutputChannel;
}

async function probeOrThrow(ffprobe: string, file: string): Promise<VideoMeta> {
  const meta = await probeVideo(ffprobe, file);
  if ('error' in meta) throw new Error(`huaju4k: cannot read ${path.basename(file)} to compare it: ${meta.error}`);
  return meta;
}

/**
 * Before/after of a finished output: a webview with the source and the result at the same time, the same size (the
 * source scaled up by ffmpeg's bicubic, as a plain resize), a frame scrubber and the monitor's wipe slider, and
 * "Open in external player". Frames are extracted with ffmpeg at the scrubbed time, on request.
 */
export async function openCompare(
  extensionUri: vscode.Uri,
  tools: CompareTools,
  source: string,
  output: string,
): Promise<vscode.WebviewPanel> {
  const [src, out] = await Promise.all([probeOrThrow(tools.ffprobe, source), probeOrThrow(tools.ffprobe, output)]);
  const size = compareSize(out.width, out.height);
  const dist = vscode.Uri.joinPath(extensionUri, 'dist');
  const panel = vscode.window.createWebviewPanel(
    'huaju4k.compare',
    `Compare: ${path.basename(output)}`,
    vscode.ViewColumn.Active,
    { enableScripts: true, enableCommandUris: false, localResourceRoots: [dist] },
  );
  panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.png');
  const w = panel.webview;
  w.html = renderMonitorHtml({
    cspSource: w.cspSource,
    nonce: makeNonce(),
    scriptUri: w.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
    styleUri: w.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
    page: 'compare',
    title: `Compare ${path.basename(output)}`,
  });
  const init: CompareInit = {
    type: 'compareInit',
    source: path.basename(source),
    output: path.basename(output),
    durationS: Math.min(src.durationS, out.durationS) || out.durationS,
    fps: out.fps || src.fps,
    width: out.width,
    height: out.height,
  };
  const post = (m: CompareHostMessage) => void w.postMessage(m);
  const sub = w.onDidReceiveMessage(async (raw: unknown) => {
    const m = parseCompareWebviewMessage(raw);
    if (!m) return tools.log.warn(`compare: ignored a malformed message from the webview`);
    if (m.type === 'compareReady') return post(init);
    if (m.type === 'compareOpenExternal') return void vscode.env.openExternal(vscode.Uri.file(output));
    try {
      const [a, b] = await Promise.all(
        [source, output].map((f) => grabFrame(tools.ffmpeg, f, m.timeS, size.width, size.height)),
      );
      post({
        type: 'compareFrames',
        seq: m.seq,
        timeS: m.timeS,
        mime: 'image/jpeg',
        source: a.toString('base64'),
        output: b.toString('base64'),
        ...size,
      });
    } catch (err) {
      tools.log.warn(`compare: ${(err as Error).message}`);
      post({ type: 'compareError', seq: m.seq, message: (err as Error).message });
    }
  });
  panel.onDidDispose(() => sub.dispose());
  return panel;
}
