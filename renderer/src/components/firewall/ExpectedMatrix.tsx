import type { PolicyPreview, PreviewFlow } from '../../../../electron/api/firewall';
import { MatrixTable, SAME_SEGMENT } from './MatrixTable';

/**
 * The expected matrix of a policy not applied yet: what it would decide for each flow between
 * the workloads running now (rows: sources; columns: destination:port), with the flows whose
 * verdict would change marked and what they are now.
 */
export function ExpectedMatrix({ preview, stale }: { preview: PolicyPreview; stale: boolean }) {
  const blocked = preview.flows.filter((f) => f.verdict === 'denied' || f.verdict === 'rejected').length;
  return (
    <section
      className={`expected ${stale ? 'expected-stale' : ''}`}
      aria-label="Expected matrix of this text"
    >
      <p className="expected-summary" role="status" aria-live="polite">
        <strong>If applied:</strong> {blocked} of {preview.flows.length} flows blocked,{' '}
        {preview.changed === 0 ? 'no verdict changes' : `${preview.changed} change verdict`}
        {preview.layout === 'perimeter' ? ' (enforced at the perimeter router)' : ''}
        {stale && <span className="muted"> · updating…</span>}
      </p>
      <MatrixTable
        label="Expected matrix"
        className="matrix-expected"
        flows={preview.flows}
        cell={(flows, key) => <ExpectedCell key={key} flow={flows[0]} />}
      />
      <p className="legend">
        <span className="legend-item muted">
          Expected by the evaluator for the text above, before anything is applied. A marked cell changes
          verdict; hover it for the rule.
        </span>
      </p>
    </section>
  );
}

function ExpectedCell({ flow }: { flow?: PreviewFlow }) {
  if (!flow) return <td className="cell cell-none">—</td>;
  const ruleId = flow.decision.ruleId;
  const inside = ruleId === SAME_SEGMENT;
  const title = [
    `${flow.src} → ${flow.dst}:${flow.port.port}/${flow.port.protocol}`,
    inside ? 'same segment: never reaches the perimeter firewall' : `rule ${ruleId}: ${flow.verdict}`,
    flow.changed ? `now: ${flow.inForce.verdict} (rule ${flow.inForce.ruleId})` : 'unchanged',
  ].join('\n');
  return (
    <td
      className={`cell verdict-${flow.verdict} ${flow.changed ? 'cell-changed' : ''}`}
      title={title}
      data-src={flow.src}
      data-dst={flow.dst}
      data-port={flow.port.port}
      data-verdict={flow.verdict}
      data-rule={ruleId}
      data-changed={String(flow.changed)}
    >
      <span className="cell-observed">
        {flow.changed ? '▲ ' : ''}
        {flow.verdict}
      </span>
      {flow.changed && <span className="cell-expected">now {flow.inForce.verdict}</span>}
      <span className="cell-rule mono">{inside ? 'same segment' : ruleId}</span>
    </td>
  );
}
