/** Polls `pred` until it holds; fails naming `what` after `ms`. */
export async function until(what: string, pred: () => boolean, ms = 5000, stepMs = 20): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
