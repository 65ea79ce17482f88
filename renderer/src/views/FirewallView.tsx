import { useEffect, useState } from 'react';
import type { Api, DeploymentStatus } from '../../../electron/api/contract';
import type { ApplyReport, PolicyShow } from '../../../electron/api/firewall';
import { Card } from '../components/Card';
import { CallError } from '../components/CallError';
import { ErrorNotice } from '../components/ErrorNotice';
import { CountersCard } from '../components/firewall/CountersCard';
import { ExportCard } from '../components/firewall/ExportCard';
import { FlowLogCard } from '../components/firewall/FlowLogCard';
import { MatrixCard } from '../components/firewall/MatrixCard';
import { PolicyEditorCard } from '../components/firewall/PolicyEditorCard';
import { PolicyInForce } from '../components/firewall/PolicyInForce';
import type { ViewName } from '../components/Tabs';
import { plural } from '../format';
import { useAction } from '../hooks/useAction';
import type { Loaded } from '../hooks/useLoader';

/** The segment firewall: the policy in force, applying another, and what the kernel does with it. */
export function FirewallView({
  api,
  status,
  policy,
  active,
  onChanged,
  onOpen,
}: {
  api: Api;
  status: Loaded<DeploymentStatus>;
  policy: Loaded<PolicyShow>;
  active: boolean;
  onChanged: () => void;
  onOpen: (view: ViewName) => void;
}) {
  const running = status.value?.deployment;
  const policyKey = policy.value?.source?.appliedAt ?? '';
  // Probes move the counters: they are read again after each run.
  const [probeRuns, setProbeRuns] = useState(0);
  const perimeter = status.value?.layout === 'perimeter';
  const deploymentKey = [
    status.value?.layout ?? '',
    ...(status.value?.workloads.map((w) => w.container).sort() ?? []),
  ].join('|');
  const remove = useAction<ApplyReport>(onChanged);
  const { clear: clearRemoved } = remove;
  // A result about an earlier policy goes when another comes into force.
  useEffect(() => {
    if (policyKey) clearRemoved();
  }, [policyKey, clearRemoved]);
  return (
    <main className="layout layout-wide">
      {status.value && !running && (
        <div className="span-all notice notice-neutral" role="status">
          <p className="notice-title">No deployment is running</p>
          <p className="notice-message">
            A policy can be applied now; it goes into force on the workloads as they start. Probes and flows
            need a deployment.{' '}
            <button type="button" className="link" onClick={() => onOpen('deployment')}>
              Open the Deployment view
            </button>
          </p>
        </div>
      )}
      <div className="column">
        <PolicyEditorCard
          api={api}
          {...(running ? { running } : {})}
          workloads={status.value?.workloads ?? []}
          refreshKey={`${policyKey}|${deploymentKey}`}
          onApplied={onChanged}
        />
      </div>
      <div className="column">
        <Card
          title="Policy in force"
          actions={
            <button
              type="button"
              className="danger"
              onClick={() => remove.run(() => api.call('policy:clear', {}))}
              disabled={!policy.value?.source || remove.running}
            >
              {remove.running ? 'Removing…' : 'Remove policy'}
            </button>
          }
        >
          {remove.error && <ErrorNotice title="Could not remove the policy" error={remove.error} />}
          {remove.value && <Removed report={remove.value} perimeter={perimeter} />}
          {policy.error && <CallError title="Could not read the policy in force" error={policy.error} />}
          {!policy.value && policy.loading && <p className="placeholder">Reading the policy…</p>}
          {policy.value && <PolicyInForce show={policy.value} perimeter={perimeter} />}
        </Card>
      </div>
      <div className="span-all">
        <MatrixCard
          api={api}
          running={!!running}
          policyKey={policyKey}
          deploymentKey={deploymentKey}
          onProbed={() => setProbeRuns((n) => n + 1)}
        />
      </div>
      <div className="span-all">
        <ExportCard
          key={policyKey}
          api={api}
          running={!!running}
          {...(policy.value?.source ? { policyText: policy.value.source.text } : {})}
        />
      </div>
      <div className="column">
        <FlowLogCard api={api} active={active} />
      </div>
      <div className="column">
        <CountersCard
          api={api}
          running={!!running}
          active={active}
          refreshKey={`${running ?? ''}|${policyKey}|${probeRuns}`}
        />
      </div>
    </main>
  );
}

function Removed({ report, perimeter }: { report: ApplyReport; perimeter: boolean }) {
  const failed = report.tables.filter((t) => t.error);
  return (
    <div className={`notice ${failed.length ? 'notice-error' : 'notice-success'}`} role="status">
      <p className="notice-title">Removed the policy{report.policy ? ` ${report.policy}` : ''}</p>
      <p className="notice-message">
        {perimeter
          ? 'The perimeter firewall lets every flow pass.'
          : report.instances === 0
            ? 'No workload runs: nothing had a table.'
            : `No workload has a table any more (${plural(report.instances, 'workload instance')}, ${report.failed} failed, in ${report.durationMs} ms): every flow is allowed and nothing is logged.`}
      </p>
      {failed.length > 0 && (
        <ul className="notice-list">
          {failed.map((t) => (
            <li key={t.container}>
              <span className="mono">{t.container}</span>: {t.error}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
