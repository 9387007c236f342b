/** A function that runs `fn` once, `ms` after the first call of a burst (tree refreshes on progress events). */
export interface Debounced {
  (): void;
  /** Drops a pending call (on dispose). */
  cancel(): void;
}

export function debounced(fn: () => void, ms = 150): Debounced {
  let timer: NodeJS.Timeout | undefined;
  const call = (() => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
  }) as Debounced;
  call.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  return call;
}
