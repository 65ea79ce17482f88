import { useCallback, useEffect, useState } from 'react';
import type { UiError } from '../errors';
import { toUiError } from '../errors';

export interface Loaded<T> {
  /** The last value; with `keepValue`, it stays while a later load fails. */
  value?: T;
  error?: UiError;
  loading: boolean;
  /** Loads again; the current value stays on screen until the new one arrives. */
  reload: () => void;
}

/**
 * Runs `load` on mount, whenever it changes, and on `reload()`. A reply that arrives after a
 * newer request, or after unmount, is dropped. `load` must be stable (useCallback).
 *
 * A failure replaces the value, unless `keepValue` (for what is polled: one failed read
 * during a change should not blank a whole view; the error shows next to the last value).
 */
export function useLoader<T>(load: () => Promise<T>, { keepValue = false } = {}): Loaded<T> {
  const [state, setState] = useState<{ value?: T; error?: UiError; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (value) => {
        if (current) setState({ value, loading: false });
      },
      (err: unknown) => {
        if (current)
          setState((prev) => ({
            ...(keepValue ? { value: prev.value } : {}),
            error: toUiError(err),
            loading: false,
          }));
      },
    );
    return () => {
      current = false;
    };
  }, [load, generation, keepValue]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}
