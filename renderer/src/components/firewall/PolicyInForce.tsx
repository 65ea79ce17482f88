import type { Policy, PolicyShow } from '../../../../electron/api/firewall';

type Rule = Policy['rules'][number];
type Peer = Rule['from'][number];
type PortRange = NonNullable<Rule['ports']>[number];

/** 8080/tcp, 9000-9100/udp: as policies write them. */
function formatPortRange(r: PortRange): string {
  return `${r.from === r.to ? r.from : `${r.from}-${r.to}`}/${r.protocol}`;
}

/** What `policy:show` says: where the policy came from, its rules, and each workload's segments and mode. */
export function PolicyInForce({ show, perimeter = false }: { show: PolicyShow; perimeter?: boolean }) {
  const { source, policy } = show;
  return (
    <div className="stack" aria-label="Policy in force">
      {source && policy ? (
        <p>
          <strong className="mono">{policy.name ?? 'unnamed policy'}</strong>{' '}
          <span className={`badge mode-${policy.mode}`}>{policy.mode}</span>{' '}
          <span className="muted">
            default {policy.defaultAction} · {source.file === 'inline' ? 'pasted text' : source.file} ·
            applied {new Date(source.appliedAt).toLocaleTimeString()}
          </span>
        </p>
      ) : (
        <p className="placeholder">No policy is in force: every flow is allowed and nothing is logged.</p>
      )}
      {policy && perimeter && (
        <p className="matrix-note" role="note" aria-label="Where the policy is enforced">
          Behind the perimeter, this policy is enforced only at the router,{' '}
          <span className="mono">perimeter-fw</span>, on calls between segment networks. The segments and
          modes below are what segment firewalls on every workload would apply.
        </p>
      )}
      {policy && policy.rules.length > 0 && (
        <table className="table compact" aria-label="Rules">
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">From</th>
              <th scope="col">To</th>
              <th scope="col">Ports</th>
              <th scope="col">Action</th>
              <th scope="col" className="numeric">
                Priority
              </th>
            </tr>
          </thead>
          <tbody>
            {policy.rules.map((r) => (
              <tr key={r.id}>
                <th scope="row" className="mono">
                  {r.id}
                </th>
                <td>{peers(r.from)}</td>
                <td>{peers(r.to)}</td>
                <td className="mono small">{r.ports ? r.ports.map(formatPortRange).join(', ') : 'any'}</td>
                <td>
                  <span className={`badge action-${r.action}`}>{r.action}</span>
                </td>
                <td className="numeric">{r.priority}</td>
              </tr>
            ))}
            <tr>
              <th scope="row" className="mono">
                default
              </th>
              <td colSpan={3} className="muted">
                everything else
              </td>
              <td>
                <span className={`badge action-${policy.defaultAction}`}>{policy.defaultAction}</span>
              </td>
              <td />
            </tr>
          </tbody>
        </table>
      )}
      {show.workloads.length > 0 && (
        <table className="table compact" aria-label="Workload segments">
          <thead>
            <tr>
              <th scope="col">Workload</th>
              <th scope="col">Segments</th>
              <th scope="col">Mode</th>
              <th scope="col" className="numeric">
                Instances
              </th>
            </tr>
          </thead>
          <tbody>
            {show.workloads.map((w) => (
              <tr key={w.name}>
                <th scope="row" className="mono">
                  {w.name}
                </th>
                <td>{w.segments.length ? w.segments.join(', ') : <span className="muted">none</span>}</td>
                <td>
                  <span className={`badge mode-${w.mode}`}>{w.mode}</span>
                </td>
                <td className="numeric">{w.instances}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {source && (
        <details className="source">
          <summary>The policy's text</summary>
          <pre className="mono">{source.text}</pre>
        </details>
      )}
    </div>
  );
}

function peers(list: Peer[]): string {
  return list
    .map((p) =>
      p.kind === 'any'
        ? 'any'
        : p.kind === 'segment'
          ? p.segment
          : p.kind === 'workload'
            ? `workload ${p.workload}`
            : Object.entries(p.selector)
                .map(([k, v]) => `${k}=${v}`)
                .join(','),
    )
    .join(', ');
}
