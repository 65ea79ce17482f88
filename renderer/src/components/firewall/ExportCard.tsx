import { useId, useState } from 'react';
import type { Api, DeploymentName, ExportTarget, KubernetesExport } from '../../../../electron/api/contract';
import { DEPLOYMENTS, EXPORT_TARGETS } from '../../../../electron/api/vocabulary';
import { useAction } from '../../hooks/useAction';
import { Card } from '../Card';
import { ErrorNotice } from '../ErrorNotice';

const TARGET_LABEL: Record<ExportTarget, string> = {
  calico: 'Calico (ordered, tiers)',
  cilium: 'Cilium',
  networkpolicy: 'Kubernetes NetworkPolicy',
};

/** The losses a target may refuse, as the CLI names them. */
const ACCEPTS = [
  { key: 'rejectAsDeny', label: '--reject-as-deny', help: 'reject becomes deny (a timeout, not a refusal)' },
  { key: 'dropLog', label: '--drop-log', help: 'rules no longer log their flows' },
  { key: 'dropMonitor', label: '--drop-monitor', help: 'workloads in monitor mode get no policy' },
  { key: 'inClusterOnly', label: '--in-cluster-only', help: '"any" means the shop\'s workloads only' },
] as const;
type AcceptKey = (typeof ACCEPTS)[number]['key'];

/**
 * The policy in force and the shop for Kubernetes (`export:kubernetes`, as `microlab export
 * kubernetes` calls it): the translation for the chosen target beside the MicroLab policy, or
 * the refusal naming what the target cannot express and the option that accepts the loss.
 */
export function ExportCard({
  api,
  policyText,
  running,
}: {
  api: Api;
  policyText?: string;
  running: boolean;
}) {
  const [target, setTarget] = useState<ExportTarget>('calico');
  const [accepts, setAccepts] = useState<Record<AcceptKey, boolean>>({
    rejectAsDeny: false,
    dropLog: false,
    dropMonitor: false,
    inClusterOnly: false,
  });
  const [file, setFile] = useState('');
  // With nothing running, the shape to export is the user's choice.
  const [shape, setShape] = useState<DeploymentName>('microservices');
  const result = useAction<KubernetesExport>((r) =>
    setFile(r.files.find((f) => f.name.startsWith('policy/'))?.name ?? r.files[0]?.name ?? ''),
  );
  const fileId = useId();
  const shown = result.value?.files.find((f) => f.name === file);
  const run = () =>
    result.run(() =>
      api.call('export:kubernetes', {
        target,
        ...(running ? {} : { deployment: shape }),
        ...Object.fromEntries(Object.entries(accepts).filter(([, v]) => v)),
      }),
    );
  return (
    <Card
      title="Export to Kubernetes"
      actions={
        <button type="button" onClick={run} disabled={result.running}>
          {result.running ? 'Exporting…' : 'Export'}
        </button>
      }
    >
      <p className="muted small">
        The shop (as it runs, replicas and versions included) and the policy in force as manifests for a
        cluster (the same as <code>microlab export kubernetes</code>).
      </p>
      <div className="actions-row">
        <label className="inline-field">
          <span>Target</span>
          <select
            aria-label="Target"
            value={target}
            onChange={(e) => {
              setTarget(e.currentTarget.value as ExportTarget);
              result.clear();
            }}
          >
            {EXPORT_TARGETS.map((t) => (
              <option key={t} value={t}>
                {TARGET_LABEL[t]}
              </option>
            ))}
          </select>
        </label>
        {ACCEPTS.map((a) => (
          <label key={a.key} className="inline-field" title={a.help}>
            <input
              type="checkbox"
              checked={accepts[a.key]}
              onChange={(e) => {
                const checked = e.currentTarget.checked;
                setAccepts((s) => ({ ...s, [a.key]: checked }));
              }}
            />
            <span>{a.label}</span>
          </label>
        ))}
      </div>
      {!running && (
        <label className="inline-field">
          <span>Nothing runs: export the</span>
          <select
            aria-label="Shape"
            value={shape}
            onChange={(e) => {
              setShape(e.currentTarget.value as DeploymentName);
              result.clear();
            }}
          >
            {DEPLOYMENTS.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
          <span>as declared</span>
        </label>
      )}
      {result.error && (
        <ErrorNotice title={`${TARGET_LABEL[target]} cannot express this policy`} error={result.error} />
      )}
      {result.value && (
        <>
          <label className="field">
            <span className="field-label" id={fileId}>
              File
            </span>
            <select aria-labelledby={fileId} value={file} onChange={(e) => setFile(e.currentTarget.value)}>
              {result.value.files.map((f) => (
                <option key={f.name} value={f.name}>
                  {f.name}
                </option>
              ))}
            </select>
          </label>
          <div className="export-panes">
            <section aria-label="MicroLab policy">
              <p className="muted small">MicroLab policy: {result.value.policySource}</p>
              <pre>{policyText ?? 'No policy in force.'}</pre>
            </section>
            <section aria-label={`Exported ${file}`}>
              <p className="muted small">{file}</p>
              <pre>{shown?.text}</pre>
            </section>
          </div>
          <ul className="muted small">
            {result.value.notes.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        </>
      )}
    </Card>
  );
}
