// Debian's chromium as every browser test here launches it: headless, no sandbox (root in CI), no GPU, and nothing
// that phones home (the machine has no network, and a test must not wait on one).

/** $CHROMIUM_PATH, else Debian's package. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Flags for `launch`/`launchPersistentContext` (add '--headless' only where playwright's `headless` is not used). */
export const CHROMIUM_ARGS = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]);
