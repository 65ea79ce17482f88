import { useEffect, useState } from 'react';
import type { Api, Events } from '../../../electron/api/contract';

type EngineConnection = Events['engine:connection'];

type Seen = { change: Exclude<EngineConnection, { state: 'connected' }>; at: string };

/**
 * A banner under the header when the firewall's watcher loses the Docker engine (it keeps
 * trying), and when it has it again (then every table was checked again); the latter can be
 * put away. Nothing while the connection is fine.
 */
export function EngineBanner({ api }: { api: Api }) {
  const [seen, setSeen] = useState<Seen>();
  useEffect(
    () =>
      api.on('engine:connection', (change) => {
        if (change.state === 'connected') return;
        setSeen({ change, at: new Date().toLocaleTimeString() });
      }),
    [api],
  );
  if (!seen) return null;
  if (seen.change.state === 'lost')
    return (
      <div className="notice notice-error engine-banner" role="alert" aria-label="Docker engine connection">
        <p className="notice-title">The Docker engine went away at {seen.at}</p>
        <p className="notice-message">
          {seen.change.reason}. MicroLab keeps trying to reach it; until then, what this window shows may be
          out of date.
        </p>
      </div>
    );
  return (
    <div className="notice notice-success engine-banner" role="status" aria-label="Docker engine connection">
      <p className="notice-title">The Docker engine is back ({seen.at})</p>
      <p className="notice-message">
        It was away {(seen.change.downMs / 1000).toFixed(1)} s; every workload&apos;s firewall table was
        checked again.
      </p>
      <button type="button" className="button-secondary" onClick={() => setSeen(undefined)}>
        Dismiss
      </button>
    </div>
  );
}
