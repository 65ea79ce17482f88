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

const VERDICT = {
  supported: 'Supported by your numbers',
  'not-supported': 'Not supported by your numbers',
  'not-measured': 'Not measured yet',
} as const;

/** The end of a lab: what the student showed, each claim next to their own numbers. */
export function LabSummaryCard({ summary }: { summary: LabSummary }) {
  const solved = summary.steps.filter((s) => s.outcome === 'solved').length;
  return (
    <Card title="Summary">
      <Markdown text={summary.finish} />
      <h3 className="summary-heading">Your numbers</h3>
      <ul className="claims" aria-label="Claims and your numbers">
        {summary.claims.map((claim, i) => (
          <li key={i} className={`claim claim-${claim.verdict}`} data-verdict={claim.verdict}>
            <p className="claim-text">
              <span className="claim-verdict">{VERDICT[claim.verdict]}</span> {claim.text}
            </p>
            {claim.article && (
              <blockquote className="claim-article">
                “{claim.article}” <cite>Lori MacVittie, “Microservices versus Microsegmentation”</cite>
              </blockquote>
            )}
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
            <ul className="claim-relations" aria-label="What the claim needs">
              {claim.relations.map((r) => (
                <li key={r.text} className={r.holds === null ? 'muted' : r.holds ? 'ok' : 'bad'}>
                  <code>{r.text}</code>
                  {r.left !== undefined && (
                    <span className="small">
                      {' '}
                      ({r.left} vs {r.right}: {r.holds ? 'holds' : 'does not hold'})
                    </span>
                  )}
                </li>
              ))}
            </ul>
            {claim.prediction && (
              <p className="small claim-prediction">
                You predicted: <strong>{claim.prediction.answer ?? 'no prediction recorded'}</strong>
              </p>
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
