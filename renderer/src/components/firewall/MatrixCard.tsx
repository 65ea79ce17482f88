import { useEffect } from 'react';
import type { Api } from '../../../../electron/api/contract';
import type { ProbeReport } from '../../../../electron/api/firewall';
import { useAction } from '../../hooks/useAction';
import { Card } from '../Card';
import { ErrorNotice } from '../ErrorNotice';
import { MatrixTable, SAME_SEGMENT } from './MatrixTable';

type Cell = ProbeReport['cells'][number];

/**
 * The reachability matrix: rows are sources, columns destination:port; each cell is what a
 * real connection observed next to what the evaluator expects. Replicas of a destination are
 * probed one by one and share a cell; a cell shows a mismatch if any of them differs.
 */
export function MatrixCard({
  api,
  running,
  policyKey,
  deploymentKey,
  onProbed,
}: {
  api: Api;
  running: boolean;
  policyKey: string;
  /** Changes when the containers or the layout change. */
  deploymentKey: string;
  onProbed: () => void;
}) {
  const probe = useAction<ProbeReport>(onProbed);
  const { clear } = probe;
  // A new policy, or another set of containers, makes the last matrix stale: it goes rather than mislead.
  useEffect(() => clear(), [policyKey, deploymentKey, clear]);
  return (
    <Card
      title="Reachability matrix"
      actions={
        <button
          type="button"
          className="primary"
          onClick={() => probe.run(() => api.call('probe:run', {}))}
          disabled={!running || probe.running}
        >
          {probe.running ? 'Probing…' : 'Run probes'}
        </button>
      }
    >
      {!probe.value && !probe.error && (
        <p className="placeholder">
          {running
            ? 'Run probes: every workload tries to connect to every port of every other one, from inside its own network namespace.'
            : 'Probes need a running deployment.'}
        </p>
      )}
      {probe.error && <ErrorNotice title="The probes could not run" error={probe.error} />}
      {probe.value && <Matrix report={probe.value} />}
    </Card>
  );
}

function Matrix({ report }: { report: ProbeReport }) {
  const unseen = report.cells.filter((c) => c.ruleId === SAME_SEGMENT).length;
  return (
    <>
      <p className={report.mismatches ? 'verdict verdict-bad' : 'verdict verdict-ok'} role="status">
        {report.mismatches === 0
          ? `Observed matches expected in all ${report.cells.length} probes`
          : `${report.mismatches} of ${report.cells.length} probes differ from what the policy expects`}
        <span className="muted"> · {(report.durationMs / 1000).toFixed(1)} s</span>
      </p>
      <MatrixTable
        label="Reachability matrix"
        flows={report.cells}
        cell={(cells, key) => <MatrixCell key={key} cells={cells} />}
      />
      <p className="legend">
        <span className="legend-item cell-key cell-key-open">connected, as expected</span>
        <span className="legend-item cell-key cell-key-closed">blocked, as expected</span>
        {unseen > 0 && (
          <span className="legend-item cell-key cell-key-unseen">same segment: not seen by the firewall</span>
        )}
        <span className="legend-item cell-key cell-key-bad">differs from expected</span>
        <span className="legend-item muted">Hover a cell for the deciding rule.</span>
      </p>
      {unseen > 0 && (
        <p className="matrix-note" role="note" aria-label="Same-segment flows">
          <strong>
            {unseen} of {report.cells.length} probes stay inside one segment.
          </strong>{' '}
          Behind a perimeter firewall such a flow never reaches the router, so no rule of the policy applies
          to it: it connects whatever the policy says. Segment firewalls on every workload would decide it.
        </p>
      )}
    </>
  );
}

function MatrixCell({ cells }: { cells: Cell[] }) {
  if (cells.length === 0) return <td className="cell cell-none">—</td>;
  const mismatch = cells.some((c) => !c.match);
  const observed = [...new Set(cells.map((c) => c.observed))].join(' / ');
  const expected = [...new Set(cells.map((c) => c.expected))].join(' / ');
  const open = cells.every((c) => c.observed === 'connected');
  const first = cells[0]!;
  const inside = first.ruleId === SAME_SEGMENT;
  const title = [
    `${first.src} → ${first.dst}:${first.port.port}/${first.port.protocol}`,
    inside
      ? 'same segment: the flow never reaches the perimeter firewall, no rule decides it'
      : `rule ${first.ruleId}: ${first.verdict}`,
    ...cells.map(
      (c) =>
        `${c.dstContainer} (${c.address}): observed ${c.observed}${c.detail ? ` (${c.detail})` : ''}${
          c.evidence
            ? `, dropped by rule ${c.evidence.ruleId} in ${c.evidence.seenBy}'s ${c.evidence.direction} (the kernel's trace, after ${c.evidence.afterMs} ms)`
            : ''
        }`,
    ),
  ].join('\n');
  const look = mismatch ? 'cell-bad' : inside ? 'cell-unseen' : open ? 'cell-open' : 'cell-closed';
  return (
    <td
      className={`cell ${look}`}
      title={title}
      data-observed={observed}
      data-expected={expected}
      data-match={String(!mismatch)}
      data-rule={first.ruleId}
      data-dst={first.dst}
      data-port={first.port.port}
    >
      <span className="cell-observed">
        {mismatch ? '≠ ' : ''}
        {observed}
      </span>
      <span className="cell-expected">exp. {expected}</span>
      <span className="cell-rule mono">{inside ? 'same segment' : first.ruleId}</span>
    </td>
  );
}
