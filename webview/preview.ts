/**
 * Before/after preview: the latest input and output frame stacked, the output clipped to the right of a split the
 * user drags (pointer on the image, or the range input with the keyboard). Frames arrive as base64; each becomes a
 * blob: URL that is decoded off the main thread (`img.decode()`) before it replaces the shown one, and the old URL
 * is revoked right after — at most two frames' URLs (shown + decoding) exist at any time. When frames arrive faster
 * than they decode, only the newest waits; the rest are dropped.
 */

import { h, setAttr, setText } from './dom';
import type { PreviewView } from './view-model';

export function base64ToBlob(b64: string, mime: string): Blob {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type: mime });
}

async function loadImage(url: string, alt: string, className: string): Promise<HTMLImageElement> {
  const img = h('img', { class: className, alt, draggable: 'false' });
  img.src = url;
  await img.decode();
  return img;
}

export class PreviewPane {
  readonly root: HTMLElement;
  private readonly stage: HTMLElement;
  private readonly placeholder: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly slider: HTMLInputElement;
  private before: HTMLImageElement | null = null;
  private after: HTMLImageElement | null = null;
  private readonly handle: HTMLElement;
  private shownUrls: string[] = [];
  private shownFrame = -1;
  private decoding = false;
  private queued: PreviewView | null = null;
  private split: number;
  /** Frames actually shown (diagnostics for tests and the dataset). */
  shownCount = 0;

  constructor(
    initialSplit: number,
    private readonly onSplitChange: (split: number) => void,
  ) {
    this.split = initialSplit;
    this.placeholder = h('div', { class: 'preview-empty' }, 'The preview appears with the first enhanced frame.');
    this.handle = h('div', { class: 'compare-handle', 'aria-hidden': 'true' });
    this.stage = h(
      'div',
      { class: 'compare', role: 'img', 'aria-label': 'Before and after preview of the latest frame' },
      this.placeholder,
      h('span', { class: 'compare-tag before-tag', 'aria-hidden': 'true' }, 'Before'),
      h('span', { class: 'compare-tag after-tag', 'aria-hidden': 'true' }, 'After'),
      this.handle,
    );
    this.slider = h('input', {
      type: 'range',
      class: 'compare-slider',
      min: '0',
      max: '100',
      step: '1',
      'aria-label': 'Before/after split: left shows the input, right the enhanced output',
    });
    this.slider.value = String(initialSplit);
    this.slider.addEventListener('input', () => this.setSplit(Number(this.slider.value)));
    this.caption = h('div', { class: 'preview-caption' }, '');
    this.root = h('div', { class: 'preview' }, this.stage, this.slider, this.caption);
    this.stage.addEventListener('pointerdown', (e) => this.drag(e));
    this.applySplit();
  }

  private drag(e: PointerEvent): void {
    if (!this.after) return;
    const move = (ev: PointerEvent) => {
      const r = this.stage.getBoundingClientRect();
      if (r.width > 0) this.setSplit(Math.round(((ev.clientX - r.left) / r.width) * 100));
    };
    this.stage.setPointerCapture(e.pointerId);
    move(e);
    const up = () => {
      this.stage.removeEventListener('pointermove', move);
      this.stage.removeEventListener('pointerup', up);
      this.stage.removeEventListener('pointercancel', up);
    };
    this.stage.addEventListener('pointermove', move);
    this.stage.addEventListener('pointerup', up);
    this.stage.addEventListener('pointercancel', up);
  }

  private setSplit(value: number): void {
    this.split = Math.min(100, Math.max(0, value));
    if (this.slider.value !== String(this.split)) this.slider.value = String(this.split);
    this.applySplit();
    this.onSplitChange(this.split);
  }

  private applySplit(): void {
    if (this.after) this.after.style.clipPath = `inset(0 0 0 ${this.split}%)`;
    this.handle.style.left = `${this.split}%`;
    this.slider.setAttribute('aria-valuetext', `${this.split}% input, ${100 - this.split}% output`);
  }

  /** Shows the newest preview without blocking: decode happens before the swap, intermediate frames are dropped. */
  show(preview: PreviewView | null): void {
    if (!preview) {
      this.clear();
      return;
    }
    if (preview.frame === this.shownFrame && this.after) return;
    this.queued = preview;
    if (!this.decoding) void this.drain();
  }

  private async drain(): Promise<void> {
    this.decoding = true;
    try {
      while (this.queued) {
        const p = this.queued;
        this.queued = null;
        const urls = [
          URL.createObjectURL(base64ToBlob(p.input, p.mime)),
          URL.createObjectURL(base64ToBlob(p.output, p.mime)),
        ];
        try {
          const [before, after] = await Promise.all([
            loadImage(urls[0], `Input frame ${p.frame}`, 'compare-img before'),
            loadImage(urls[1], `Enhanced frame ${p.frame}`, 'compare-img after'),
          ]);
          this.swap(before, after, urls, p);
        } catch (err) {
          for (const u of urls) URL.revokeObjectURL(u);
          console.warn(`monitor: preview frame ${p.frame} could not be decoded: ${String(err)}`);
        }
      }
    } finally {
      this.decoding = false;
    }
  }

  private swap(before: HTMLImageElement, after: HTMLImageElement, urls: string[], p: PreviewView): void {
    if (this.before) this.before.replaceWith(before);
    else this.stage.prepend(before);
    if (this.after) this.after.replaceWith(after);
    else before.after(after);
    this.before = before;
    this.after = after;
    for (const u of this.shownUrls) URL.revokeObjectURL(u);
    this.shownUrls = urls;
    this.shownFrame = p.frame;
    this.shownCount++;
    this.placeholder.hidden = true;
    this.stage.classList.add('has-image');
    if (p.width > 0 && p.height > 0) this.stage.style.aspectRatio = `${p.width} / ${p.height}`;
    setAttr(this.stage, 'data-frame', String(p.frame));
    setText(this.caption, `Frame ${p.frame} · before: input · after: enhanced`);
    this.applySplit();
  }

  clear(): void {
    this.queued = null;
    this.before?.remove();
    this.after?.remove();
    this.before = null;
    this.after = null;
    for (const u of this.shownUrls) URL.revokeObjectURL(u);
    this.shownUrls = [];
    this.shownFrame = -1;
    this.placeholder.hidden = false;
    this.stage.classList.remove('has-image');
    this.stage.style.aspectRatio = '';
    setAttr(this.stage, 'data-frame', null);
    setText(this.caption, '');
  }

  get liveUrlCount(): number {
    return this.shownUrls.length;
  }
}
