/**
 * The backends section's live thumbnails: one small image per backend row, fed by `backendFrame` messages (the
 * newest frame of that backend's broadcast, relayed by the host ≤ 2 a second). Each frame becomes a blob: URL that
 * is decoded before it replaces the shown one; the replaced URL is revoked at once, so each backend holds at most
 * two URLs (shown + decoding) and only the newest waiting frame. The element of a backend lives across re-renders of
 * the table and is dropped (its URL revoked) when the backend leaves the list.
 */
import type { BackendFrameMessage } from '../src/protocol/webview-messages';
import { h, setAttr, setText } from './dom';
import { base64ToBlob } from './preview';

/** As many as the protocol allows backend rows: a bound on memory whatever arrives. */
const MAX_THUMBNAILS = 64;

class BackendThumb {
  readonly root: HTMLElement;
  private readonly empty: HTMLElement;
  private img: HTMLImageElement | null = null;
  private shownUrl: string | null = null;
  private decoding = false;
  private queued: BackendFrameMessage | null = null;
  private dropped = false;
  shown = 0;

  constructor(readonly name: string) {
    this.empty = h('span', { class: 'backend-thumb-empty' }, 'No frames yet');
    this.root = h('div', { class: 'backend-thumb', 'data-backend': name, 'data-frames': '0' }, this.empty);
  }

  show(frame: BackendFrameMessage): void {
    this.queued = frame;
    if (!this.decoding) void this.drain();
  }

  private async drain(): Promise<void> {
    this.decoding = true;
    try {
      while (this.queued && !this.dropped) {
        const f = this.queued;
        this.queued = null;
        const url = URL.createObjectURL(base64ToBlob(f.data, f.mime));
        const img = h('img', { class: 'backend-thumb-img', alt: `Latest frame broadcast by ${this.name}` });
        img.src = url;
        try {
          await img.decode();
        } catch (err) {
          URL.revokeObjectURL(url);
          console.warn(`monitor: a frame from backend ${this.name} could not be decoded: ${String(err)}`);
          continue;
        }
        if (this.dropped) {
          URL.revokeObjectURL(url);
          break;
        }
        this.swap(img, url, f.ts);
      }
    } finally {
      this.decoding = false;
    }
  }

  private swap(img: HTMLImageElement, url: string, ts: number): void {
    if (this.img) this.img.replaceWith(img);
    else this.root.prepend(img);
    this.img = img;
    if (this.shownUrl) URL.revokeObjectURL(this.shownUrl);
    this.shownUrl = url;
    this.shown++;
    this.empty.hidden = true;
    setAttr(this.root, 'data-frames', String(this.shown));
    setAttr(
      this.root,
      'title',
      `${img.naturalWidth}×${img.naturalHeight}, received ${new Date(ts).toLocaleTimeString()}`,
    );
  }

  /** The backend left the list: forget its image and URL. */
  drop(): void {
    this.dropped = true;
    this.queued = null;
    if (this.shownUrl) URL.revokeObjectURL(this.shownUrl);
    this.shownUrl = null;
    this.img?.remove();
    this.img = null;
    setText(this.empty, 'No frames yet');
  }

  get liveUrls(): number {
    return this.shownUrl ? 1 : 0;
  }
}

export class BackendThumbnails {
  private readonly thumbs = new Map<string, BackendThumb>();

  /** The thumbnail element for a backend row (the same element on every render, so its image survives). */
  element(name: string): HTMLElement {
    return this.thumb(name).root;
  }

  /** Shows a frame; frames for backends not in the list are kept until the list arrives (init may come later). */
  show(frame: BackendFrameMessage): void {
    if (!this.thumbs.has(frame.name) && this.thumbs.size >= MAX_THUMBNAILS) return;
    this.thumb(frame.name).show(frame);
  }

  /** Drops the thumbnails of backends no longer listed. */
  retain(names: readonly string[]): void {
    const keep = new Set(names);
    for (const [name, t] of [...this.thumbs]) {
      if (keep.has(name)) continue;
      t.drop();
      this.thumbs.delete(name);
    }
  }

  /** Blob URLs alive across all thumbnails (diagnostics: bounded by the number of backends). */
  get liveUrlCount(): number {
    let n = 0;
    for (const t of this.thumbs.values()) n += t.liveUrls;
    return n;
  }

  /** Frames shown per backend (diagnostics). */
  shownCounts(): Record<string, number> {
    return Object.fromEntries([...this.thumbs].map(([name, t]) => [name, t.shown]));
  }

  private thumb(name: string): BackendThumb {
    let t = this.thumbs.get(name);
    if (!t) {
      t = new BackendThumb(name);
      this.thumbs.set(name, t);
    }
    return t;
  }
}
