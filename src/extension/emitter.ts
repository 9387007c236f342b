/** Minimal typed event emitter so the logic modules do not depend on `vscode.EventEmitter`. */
export interface Disposable {
  dispose(): void;
}

export class Emitter<T> {
  private listeners: ((value: T) => void)[] = [];

  readonly event = (listener: (value: T) => void): Disposable => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };

  fire(value: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(value);
      } catch (err) {
        console.error('huaju4k listener failed', err);
      }
    }
  }

  dispose(): void {
    this.listeners = [];
  }
}
