import type { LabSummary, Measurement } from '../../../../electron/api/contract';
import { Card } from '../Card';
import { Markdown } from '../Markdown';

/** A recorded number, as the student measured it. */
export function Figure({ m }: { m: Measurement }) {
  return (
    <span className="figure" title={`${m.source} · ${new Date(m.at).toLocaleString()}`} data-measure={m.id}>
      <span className="figure-value">
        {m.value} {m.unit}
      </span>{' '}
      <span className="figure-label">{m.label}</span>
    </span>
  );
}

/** The end of a lab: what the student showed, each claim next to their own numbers. */
export function LabSummaryCard({ summary }: { summary: LabSummary }) {
  const solved = summary.steps.filter((s) => s.outcome === 'solved').length;
  return (
    <Card title="Summary">
      <Markdown text={summary.finish} />
      <h3 className="summary-heading">Your numbers</h3>
      <ul className="claims" aria-label="Claims and your numbers">
        {summary.claims.map((claim, i) => (
          <li key={i} className={claim.backed ? 'claim claim-backed' : 'claim claim-open'}>
            <p className="claim-text">{claim.text}</p>
            {claim.measurements.length > 0 ? (
              <ul className="claim-figures">
                {claim.measurements.map((m) => (
                  <li key={m.id}>
                    <Figure m={m} />
                  </li>
                ))}
              </ul>
            ) : (
              <p className="small muted">Not measured yet: pass the step that records it.</p>
            )}
          </li>
        ))}
      </ul>
      <table className="summary-steps" aria-label="Steps">
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Outcome</th>
            <th scope="col">Checks</th>
            <th scope="col">Hints</th>
            <th scope="col">Time</th>
          </tr>
        </thead>
        <tbody>
          {summary.steps.map((s) => (
            <tr key={s.id}>
              <th scope="row">{s.title}</th>
              <td>
                {s.outcome === 'passed'
                  ? 'passed'
                  : s.outcome === 'solved'
                    ? 'solved with “Show me”'
                    : 'not done'}
              </td>
              <td>{s.attempts}</td>
              <td>{s.hintsShown}</td>
              <td>{s.seconds === undefined ? '—' : `${Math.max(1, Math.round(s.seconds / 60))} min`}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {solved > 0 && (
        <p className="small muted">
          {solved} {solved === 1 ? 'step was' : 'steps were'} solved with “Show me”: the progress says so.
        </p>
      )}
    </Card>
  );
}
