import { useState } from 'react';
import type { Api, DeploymentStatus } from '../../../electron/api/contract';
import type { PolicyShow } from '../../../electron/api/firewall';
import { Card } from '../components/Card';
import { CallError } from '../components/CallError';
import { CountersCard } from '../components/firewall/CountersCard';
import { FlowLogCard } from '../components/firewall/FlowLogCard';
import { MatrixCard } from '../components/firewall/MatrixCard';
import { PolicyEditorCard } from '../components/firewall/PolicyEditorCard';
import { PolicyInForce } from '../components/firewall/PolicyInForce';
import type { ViewName } from '../components/Tabs';
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
        <PolicyEditorCard api={api} onApplied={onChanged} />
      </div>
      <div className="column">
        <Card title="Policy in force">
          {policy.error && <CallError title="Could not read the policy in force" error={policy.error} />}
          {!policy.value && policy.loading && <p className="placeholder">Reading the policy…</p>}
          {policy.value && <PolicyInForce show={policy.value} />}
        </Card>
      </div>
      <div className="span-all">
        <MatrixCard
          api={api}
          running={!!running}
          policyKey={policyKey}
          onProbed={() => setProbeRuns((n) => n + 1)}
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
