import { randomBytes } from 'node:crypto';

/** A fresh CSP nonce for one webview document (url-safe, 24 characters). */
export function makeNonce(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * Text safe inside an HTML element or a double-quoted attribute (the only kind these pages write). Single quotes stay
 * as they are, so a CSP reads in the page source exactly as it is meant.
 */
export function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
