import type { CheckStatus } from '../../../electron/api/contract';

const LABELS: Record<CheckStatus, string> = {
  pass: 'passed',
  warn: 'warning',
  fail: 'failed',
  skip: 'skipped',
};

const PATHS: Record<CheckStatus, string> = {
  pass: 'M4.5 8.5l2.3 2.3 4.7-5.1',
  warn: 'M8 4.2v4.6M8 11.3v.3',
  fail: 'M5.2 5.2l5.6 5.6M10.8 5.2l-5.6 5.6',
  skip: 'M4.8 8h6.4',
};

/** The mark of a check (or anything with the same four outcomes), named for screen readers. */
export function StatusIcon({ status }: { status: CheckStatus }) {
  return (
    <span className={`status-icon status-${status}`} role="img" aria-label={LABELS[status]}>
      <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
        <path d={PATHS[status]} />
      </svg>
    </span>
  );
}
