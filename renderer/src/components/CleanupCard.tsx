import { useState } from 'react';
import type { Api, DownReport, LabeledResource } from '../../../electron/api/contract';
import type { UiError } from '../errors';
import { toUiError } from '../errors';
import { plural } from '../format';
import type { Loaded } from '../hooks/useLoader';
import { Card } from './Card';
import { CallError } from './CallError';
import { ErrorNotice } from './ErrorNotice';

const KINDS = ['container', 'network', 'volume'] as const;

/** What MicroLab started (found by its labels; images are kept), and the way to remove it all. */
export function CleanupCard({ api, resources }: { api: Api; resources: Loaded<LabeledResource[]> }) {
  const [removing, setRemoving] = useState(false);
  const [report, setReport] = useState<DownReport>();
  const [error, setError] = useState<UiError>();
  const started = resources.value?.filter((r) => r.kind !== 'image') ?? [];

  const removeAll = () => {
    setRemoving(true);
    setError(undefined);
    setReport(undefined);
    api.call('resources:down', {}).then(
      (result) => {
        setReport(result);
        setRemoving(false);
        resources.reload();
      },
      (err: unknown) => {
        setError(toUiError(err));
        setRemoving(false);
        resources.reload();
      },
    );
  };

  return (
    <Card title="Clean up">
      {resources.error && <CallError title="Could not list what MicroLab started" error={resources.error} />}
      {!resources.value && resources.loading && <p className="placeholder">Looking for resources…</p>}
      {resources.value && <Summary started={started} />}
      <div className="cleanup-action">
        <button
          type="button"
          className="danger"
          onClick={removeAll}
          disabled={removing || started.length === 0}
        >
          {removing ? 'Removing…' : 'Remove everything MicroLab started'}
        </button>
        <span className="muted">Only what carries MicroLab’s labels; images are kept.</span>
      </div>
      {error && <ErrorNotice title="Clean up failed" error={error} />}
      {report && <DownResult report={report} />}
    </Card>
  );
}

function Summary({ started }: { started: LabeledResource[] }) {
  if (started.length === 0) {
    return (
      <p className="cleanup-count">
        <strong>0</strong> resources: MicroLab has no containers, networks or volumes on this engine.
      </p>
    );
  }
  const counts = KINDS.map((kind) => [kind, started.filter((r) => r.kind === kind).length] as const)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => plural(n, kind));
  return (
    <>
      <p className="cleanup-count">
        <strong>{started.length}</strong> {started.length === 1 ? 'resource' : 'resources'} started by
        MicroLab: {counts.join(', ')}.
      </p>
      <ul className="resource-list">
        {started.map((r) => (
          <li key={`${r.kind}:${r.id}`}>
            <span className="resource-kind">{r.kind}</span> <span className="mono">{r.name}</span>
            {r.state && <span className="muted"> ({r.state})</span>}
          </li>
        ))}
      </ul>
    </>
  );
}

function DownResult({ report }: { report: DownReport }) {
  const removed = report.removed.length;
  return (
    <div className={`notice ${report.failed.length ? 'notice-error' : 'notice-success'}`} role="status">
      <p className="notice-title">
        {removed ? `Removed ${plural(removed, 'resource')}.` : 'Nothing was removed.'}
      </p>
      {removed > 0 && (
        <p className="notice-message">
          {report.removed.map((r, i) => (
            <span key={`${r.kind}:${r.id}`}>
              {i > 0 && ', '}
              {r.kind} <span className="mono">{r.name}</span>
            </span>
          ))}
        </p>
      )}
      {report.failed.length > 0 && (
        <ul className="notice-list">
          {report.failed.map((f) => (
            <li key={`${f.resource.kind}:${f.resource.id}`}>
              Could not remove {f.resource.kind} <span className="mono">{f.resource.name}</span>: {f.error}
              {f.hint && <span className="notice-hint"> {f.hint}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
