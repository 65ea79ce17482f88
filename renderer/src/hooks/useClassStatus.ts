import { useCallback, useEffect, useState } from 'react';
import type { ClassJoinStatus } from '../../../electron/api/class';
import type { Api } from '../../../electron/api/contract';
import type { UiError } from '../errors';
import { toUiError } from '../errors';

/**
 * The app's class client as the services report it: read once (`class:status`), then kept
 * current by `class:update`. `set` takes the answer of a call that changed it (join, leave).
 */
export function useClassStatus(api: Api): {
  status?: ClassJoinStatus;
  error?: UiError;
  set: (status: ClassJoinStatus) => void;
} {
  const [status, setStatus] = useState<ClassJoinStatus>();
  const [error, setError] = useState<UiError>();
  useEffect(() => {
    let live = true;
    const dispose = api.on('class:update', (update) => {
      setStatus(update);
      setError(undefined);
    });
    api.call('class:status', {}).then(
      (s) => {
        if (live) setStatus((prev) => prev ?? s);
      },
      (err: unknown) => {
        if (live) setError(toUiError(err));
      },
    );
    return () => {
      live = false;
      dispose();
    };
  }, [api]);
  const set = useCallback((s: ClassJoinStatus) => setStatus(s), []);
  return { status, error, set };
}
