// Monitor webview entry (browser bundle). Filled by the monitor issue.
document.body.dataset.huaju4k = 'ready';
