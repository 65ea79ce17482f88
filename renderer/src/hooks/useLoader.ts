import { useCallback, useEffect, useState } from 'react';
import type { UiError } from '../errors';
import { toUiError } from '../errors';

export interface Loaded<T> {
  value?: T;
  error?: UiError;
  loading: boolean;
  /** Loads again; the current value stays on screen until the new one arrives. */
  reload: () => void;
}

/**
 * Runs `load` on mount, whenever it changes, and on `reload()`. A reply that arrives after a
 * newer request, or after unmount, is dropped. `load` must be stable (useCallback).
 */
export function useLoader<T>(load: () => Promise<T>): Loaded<T> {
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
        if (current) setState({ error: toUiError(err), loading: false });
      },
    );
    return () => {
      current = false;
    };
  }, [load, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}
