import type { DoctorCheck, DoctorReport } from '../../../electron/api/contract';
import type { Loaded } from '../hooks/useLoader';
import { plural } from '../format';
import { Card } from './Card';
import { ErrorNotice } from './ErrorNotice';
import { RichText } from './RichText';
import { StatusIcon } from './StatusIcon';

/** Every doctor check, with what was found and, for a warning or failure, how to fix it. */
export function DoctorCard({ doctor, onCheck }: { doctor: Loaded<DoctorReport>; onCheck: () => void }) {
  const { value: report, error, loading } = doctor;
  return (
    <Card
      title="Engine and machine"
      actions={
        <button type="button" onClick={onCheck} disabled={loading}>
          {loading ? 'Checking…' : 'Check again'}
        </button>
      }
    >
      {error && <ErrorNotice title="The checks could not run" error={error} />}
      {!report && loading && <p className="placeholder">Running the checks…</p>}
      {report && (
        <>
          <Verdict report={report} />
          <ul className="checks" aria-busy={loading}>
            {report.checks.map((check) => (
              <CheckItem key={check.id} check={check} />
            ))}
          </ul>
        </>
      )}
    </Card>
  );
}

function Verdict({ report }: { report: DoctorReport }) {
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const warned = report.checks.filter((c) => c.status === 'warn').length;
  const text = report.ok
    ? `Ready for the labs${warned ? `, with ${plural(warned, 'warning')}` : ''}.`
    : `Not ready: ${plural(failed, 'check')} failed.`;
  return (
    <p className={`verdict ${report.ok ? 'verdict-ok' : 'verdict-bad'}`}>
      {text} <span className="muted">Platform {report.platform}.</span>
    </p>
  );
}

function CheckItem({ check }: { check: DoctorCheck }) {
  const needsFix = check.status === 'warn' || check.status === 'fail';
  const details = shownDetails(check);
  return (
    <li className={`check check-${check.status}`}>
      <StatusIcon status={check.status} />
      <div className="check-body">
        <h3 className="check-title">{check.title}</h3>
        <p className="check-summary">
          <RichText text={check.summary} />
        </p>
        {details.length > 0 && (
          <table className="details">
            <tbody>
              {details.map(([key, value]) => (
                <tr key={key}>
                  <th scope="row">{key}</th>
                  <td>{value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {check.hint &&
          (needsFix ? (
            <p className={`fix fix-${check.status}`}>
              <strong>How to fix: </strong>
              <RichText text={check.hint} />
            </p>
          ) : (
            <p className="check-hint">
              <RichText text={check.hint} />
            </p>
          ))}
      </div>
    </li>
  );
}

/**
 * The facts shown under a check. On a passing check, the features that each say "works" (the
 * firewall check names every nftables construct it tried) are one row; a warning or a failure
 * shows each, so the missing one stands out. `doctor --json` always carries them all.
 */
function shownDetails(check: DoctorCheck): [string, string][] {
  const details = Object.entries(check.details ?? {});
  const working = details.filter(([, value]) => value === 'works');
  if (check.status !== 'pass' || working.length < 4) return details;
  const rest = details.filter(([, value]) => value !== 'works');
  return [...rest, ['features', `all ${working.length} tried work (each one: microlab doctor --json)`]];
}
