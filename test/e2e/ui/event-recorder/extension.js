// Installed next to huaju4k (loaded from the repo) by the monitor UI test: subscribes to the
// extension's public API (`jobs.onEngineEvent`, the same stream the monitor panel is fed from) and appends each
// engine event as one JSON line to $HUAJU4K_E2E_EVENTS, so the test compares the panel with what the engine sent.
// Preview images are replaced by their lengths to keep the file small.
const { appendFileSync } = require('node:fs');
const vscode = require('vscode');

exports.activate = async (context) => {
  const file = process.env.HUAJU4K_E2E_EVENTS;
  if (!file) return;
  const huaju4k = vscode.extensions.getExtension('huaju4k.huaju4k');
  if (!huaju4k) throw new Error('event recorder: the huaju4k extension is not loaded');
  const api = await huaju4k.activate();
  const record = ({ jobId, event }) => {
    const e = event.type === 'preview' ? { ...event, input: event.input.length, output: event.output.length } : event;
    appendFileSync(file, `${JSON.stringify({ jobId, event: e })}\n`);
  };
  context.subscriptions.push(api.jobs.onEngineEvent(record));
  appendFileSync(file, `${JSON.stringify({ recorder: 'ready' })}\n`);
};

exports.deactivate = () => {};
