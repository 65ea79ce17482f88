import { useEffect, useState } from 'react';
import type { Api } from '../../../../electron/api/contract';
import type { FlowEvent } from '../../../../electron/api/firewall';
import type { UiError } from '../../errors';
import { toUiError } from '../../errors';
import { Card } from '../Card';
import { ErrorNotice } from '../ErrorNotice';

const KEEP = 200;

const key = (e: FlowEvent) => `${e.time}|${e.src}|${e.dst}|${e.srcPort ?? ''}|${e.port ?? ''}|${e.protocol}`;

/**
 * The flow log: one line per new connection with the rule that decided it. While the view is
 * open it follows `flows:event` live; it starts from the log so far.
 */
export function FlowLogCard({ api, active }: { api: Api; active: boolean }) {
  const [events, setEvents] = useState<FlowEvent[]>([]);
  const [following, setFollowing] = useState(false);
  const [error, setError] = useState<UiError>();

  useEffect(() => {
    if (!active) return;
    let live = true;
    const add = (incoming: FlowEvent[]) =>
      setEvents((prev) => {
        const seen = new Set(prev.map(key));
        const fresh = incoming.filter((e) => !seen.has(key(e)));
        if (fresh.length === 0) return prev;
        return [...prev, ...fresh].sort((a, b) => a.time.localeCompare(b.time)).slice(-KEEP);
      });
    const dispose = api.on('flows:event', (e) => add([e]));
    setError(undefined);
    api.call('flows:follow', { enabled: true }).then(
      (r) => {
        if (live) setFollowing(r.following);
      },
      (err: unknown) => {
        if (live) setError(toUiError(err));
      },
    );
    api.call('flows:list', { limit: KEEP }).then(
      (list) => {
        if (live) add(list);
      },
      (err: unknown) => {
        if (live) setError(toUiError(err));
      },
    );
    return () => {
      live = false;
      dispose();
      setFollowing(false);
      api.call('flows:follow', { enabled: false }).catch(() => undefined);
    };
  }, [api, active]);

  return (
    <Card
      title="Flow log"
      actions={
        <>
          <span className={`live ${following ? 'live-on' : ''}`}>{following ? 'live' : 'paused'}</span>
          <button type="button" onClick={() => setEvents([])} disabled={events.length === 0}>
            Clear
          </button>
        </>
      }
    >
      {error && <ErrorNotice title="Could not read the flow log" error={error} />}
      {events.length === 0 ? (
        <p className="placeholder">
          No connections logged yet. Flows are logged by the firewall's tables: apply a policy (monitor or
          enforce), then use the shop or run probes.
        </p>
      ) : (
        <div className="scroll-box">
          <table className="table compact flows" aria-label="Flows">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Source</th>
                <th scope="col">Destination</th>
                <th scope="col" className="numeric">
                  Port
                </th>
                <th scope="col">Verdict</th>
                <th scope="col">Rule</th>
              </tr>
            </thead>
            <tbody>
              {[...events].reverse().map((e) => (
                <tr key={key(e)}>
                  <td className="mono small">{new Date(e.time).toLocaleTimeString()}</td>
                  <td className="mono">{e.src}</td>
                  <td className="mono">{e.dst}</td>
                  <td className="numeric mono">
                    {e.port ?? '—'}
                    {e.protocol !== 'tcp' ? `/${e.protocol}` : ''}
                  </td>
                  <td>
                    <span className={`badge verdict-${e.verdict}`}>{e.verdict}</span>
                  </td>
                  <td className="mono small">{e.ruleId}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
