import { useEffect } from 'react';
import type { Api } from '../../../../electron/api/contract';
import type { CountersReport } from '../../../../electron/api/firewall';
import { formatBytes } from '../../format';
import { useAction } from '../../hooks/useAction';
import { Card } from '../Card';
import { ErrorNotice } from '../ErrorNotice';

/**
 * Packets and bytes per rule, summed over every workload's table: read when the view opens,
 * when the policy or the deployment changes, after probes, and on demand.
 */
export function CountersCard({
  api,
  running,
  active,
  refreshKey,
}: {
  api: Api;
  running: boolean;
  active: boolean;
  refreshKey: string;
}) {
  const counters = useAction<CountersReport>();
  const { run } = counters;
  useEffect(() => {
    if (active && running) run(() => api.call('firewall:counters', {}));
  }, [api, active, running, refreshKey, run]);
  const report = counters.value;
  const rules = report?.rules.filter((r) => !r.ruleId.startsWith('_')) ?? [];
  const failed = report?.workloads.filter((w) => w.error) ?? [];
  return (
    <Card
      title="Rule counters"
      actions={
        <button
          type="button"
          onClick={() => counters.run(() => api.call('firewall:counters', {}))}
          disabled={!running || counters.running}
        >
          {counters.running ? 'Reading…' : report ? 'Read again' : 'Read counters'}
        </button>
      }
    >
      {counters.error && <ErrorNotice title="Could not read the counters" error={counters.error} />}
      {!report && !counters.error && (
        <p className="placeholder">
          {running
            ? 'Every rule counts the packets it decides; read them after probes or a load.'
            : 'Counters need a running deployment with a policy.'}
        </p>
      )}
      {report && rules.length === 0 && (
        <p className="placeholder">No counters: no workload has a table (is a policy in force?).</p>
      )}
      {rules.length > 0 && (
        <table className="table compact" aria-label="Counters">
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Action</th>
              <th scope="col" className="numeric">
                Packets
              </th>
              <th scope="col" className="numeric">
                Bytes
              </th>
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => (
              <tr key={`${r.ruleId}:${r.action}`}>
                <th scope="row" className="mono">
                  {r.ruleId}
                </th>
                <td>
                  <span className="badge">{r.action}</span>
                </td>
                <td className="numeric">{r.packets.toLocaleString('en')}</td>
                <td className="numeric">{r.bytes ? formatBytes(r.bytes) : '0'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {failed.length > 0 && (
        <ul className="notice-list muted">
          {failed.map((w) => (
            <li key={w.sidecar}>
              <span className="mono">{w.workload}</span>: {w.error}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
