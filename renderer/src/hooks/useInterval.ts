import { useEffect, useRef } from 'react';

/** Calls `tick` every `ms` while `enabled`; the latest `tick` is used, so it need not be stable. */
export function useInterval(tick: () => void, ms: number, enabled: boolean): void {
  const ref = useRef(tick);
  useEffect(() => {
    ref.current = tick;
  }, [tick]);
  useEffect(() => {
    if (!enabled) return;
    const timer = setInterval(() => ref.current(), ms);
    return () => clearInterval(timer);
  }, [ms, enabled]);
}
