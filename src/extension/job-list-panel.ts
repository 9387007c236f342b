import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { JobManager } from './job-manager';
import { type JobSnapshot, percentOf, progressText } from './job-state';

/**
 * The seam for the monitor (issue 7): one panel, opened by `huaju4k.showMonitor` from the palette, status bar,
 * tree and notifications. This minimal version lists the jobs with their progress; the full monitor (preview,
 * charts, backends) replaces `html()` and the message handling with the `webview/` bundle.
 */
export class JobListPanel implements vscode.Disposable {
  static readonly viewType = 'huaju4k.jobList';
  private static current: JobListPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  static show(extensionUri: vscode.Uri, jobs: JobManager): JobListPanel {
    if (JobListPanel.current) {
      JobListPanel.current.panel.reveal();
      return JobListPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(JobListPanel.viewType, 'huaju4k Monitor', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
    });
    JobListPanel.current = new JobListPanel(panel, jobs);
    return JobListPanel.current;
  }

  static get isOpen(): boolean {
    return JobListPanel.current !== undefined;
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly jobs: JobManager,
  ) {
    panel.webview.html = this.html(randomBytes(16).toString('base64'));
    this.disposables.push(
      jobs.onDidChangeJob(() => this.post()),
      panel.webview.onDidReceiveMessage((msg: unknown) => {
        if (typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'ready') this.post();
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private post(): void {
    const rows = this.jobs.jobs().map((j: JobSnapshot) => ({
      id: j.id,
      name: path.basename(j.input),
      output: j.output,
      phase: j.phase,
      percent: percentOf(j),
      text: progressText(j),
    }));
    void this.panel.webview.postMessage({ type: 'jobs', v: 1, jobs: rows });
  }

  private html(nonce: string): string {
    const csp = `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';`;
    return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<style nonce="${nonce}">
body{font-family:var(--vscode-font-family);color:var(--vscode-foreground);padding:12px}
.job{margin:8px 0}.bar{height:6px;background:var(--vscode-progressBar-background);}
.track{background:var(--vscode-editorWidget-background);width:100%;max-width:480px}
.muted{color:var(--vscode-descriptionForeground)}
</style></head><body>
<h2>huaju4k jobs</h2><div id="jobs" role="list" aria-live="polite"><p class="muted">No jobs in this session.</p></div>
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
const root = document.getElementById('jobs');
window.addEventListener('message', (e) => {
  const m = e.data;
  if (!m || m.type !== 'jobs' || !Array.isArray(m.jobs)) return;
  root.textContent = '';
  if (m.jobs.length === 0) { const p = document.createElement('p'); p.className = 'muted'; p.textContent = 'No jobs in this session.'; root.append(p); return; }
  for (const j of m.jobs) {
    const div = document.createElement('div'); div.className = 'job'; div.setAttribute('role', 'listitem');
    const title = document.createElement('div'); title.textContent = j.name + ' — ' + j.phase + ' · ' + j.text;
    const track = document.createElement('div'); track.className = 'track';
    const bar = document.createElement('div'); bar.className = 'bar'; bar.style.width = j.percent + '%';
    bar.setAttribute('role', 'progressbar'); bar.setAttribute('aria-valuenow', String(j.percent));
    track.append(bar); div.append(title, track); root.append(div);
  }
});
vscode.postMessage({ type: 'ready' });
</script></body></html>`;
  }

  dispose(): void {
    JobListPanel.current = undefined;
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
