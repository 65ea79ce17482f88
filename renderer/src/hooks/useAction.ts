import { useCallback, useEffect, useRef, useState } from 'react';
import type { UiError } from '../errors';
import { toUiError } from '../errors';

export interface Action<T> {
  /** The last result, until the next run starts. */
  value?: T;
  error?: UiError;
  running: boolean;
  run: (call: () => Promise<T>) => void;
  clear: () => void;
}

/**
 * One button's call: running while it runs, then its result or its error. A reply that
 * arrives after a newer run started is dropped.
 */
export function useAction<T>(onDone?: (value: T) => void): Action<T> {
  const [state, setState] = useState<{ value?: T; error?: UiError; running: boolean }>({ running: false });
  const generation = useRef(0);
  const onDoneRef = useRef(onDone);
  useEffect(() => {
    onDoneRef.current = onDone;
  }, [onDone]);
  const run = useCallback((call: () => Promise<T>) => {
    const mine = ++generation.current;
    setState({ running: true });
    call().then(
      (value) => {
        if (mine !== generation.current) return;
        setState({ value, running: false });
        onDoneRef.current?.(value);
      },
      (err: unknown) => {
        if (mine === generation.current) setState({ error: toUiError(err), running: false });
      },
    );
  }, []);
  const clear = useCallback(() => {
    generation.current++;
    setState({ running: false });
  }, []);
  return { ...state, run, clear };
}
