import { lazy, Suspense, useEffect, useState } from 'react';
import type { Api, DeploymentStatus, LabView, LoadUpdate } from '../../../../electron/api/contract';
import type { PolicyShow } from '../../../../electron/api/firewall';
import type { Loaded } from '../../hooks/useLoader';
import { groupWorkloads } from '../../workloads';
import { Card } from '../Card';
import { CountersCard } from '../firewall/CountersCard';
import { FlowLogCard } from '../firewall/FlowLogCard';
import { MatrixCard } from '../firewall/MatrixCard';
import { PolicyEditorCard } from '../firewall/PolicyEditorCard';
import type { WorkspaceFile } from '../firewall/PolicyEditorCard';
import { LoadChart, ms } from '../LoadChart';

const DeploymentGraph = lazy(() =>
  import('../DeploymentGraph').then((m) => ({ default: m.DeploymentGraph })),
);

/** A terminal the guide asked for: in a workload, or its firewall (its pod's holder), with a command to type. */
export interface TerminalRequest {
  workload: string;
  command?: string;
  firewall: boolean;
}

/**
 * The live views a step needs, beside its guide (not in place of it): the call graph, the
 * matrix, the flow log, the rule counters, the policy editor, the load chart and the terminal,
 * in the order the step lists them. They read the same services as the other tabs.
 */
export function LiveViews({
  api,
  views,
  status,
  policy,
  active,
  terminal,
  workspace,
  onTerminal,
  onChanged,
}: {
  api: Api;
  views: LabView[];
  status: Loaded<DeploymentStatus>;
  policy: Loaded<PolicyShow>;
  /** The lab is on screen (hidden views stop following flows and drawing). */
  active: boolean;
  terminal?: TerminalRequest;
  /** The student's workspace file the editor opens and saves to (a step handed it out). */
  workspace?: WorkspaceFile;
  /** Opens (again) a terminal in the terminal panel. */
  onTerminal: (request: TerminalRequest) => void;
  onChanged: () => void;
}) {
  const current = status.value;
  const running = !!current?.deployment;
  const policyKey = policy.value?.source?.appliedAt ?? '';
  const deploymentKey = [
    current?.layout ?? '',
    ...(current?.workloads.map((w) => w.container).sort() ?? []),
  ].join('|');
  const [probeRuns, setProbeRuns] = useState(0);
  const shown = terminal && !views.includes('terminal') ? [...views, 'terminal' as const] : views;
  return (
    <div className="live-views">
      {shown.map((view) => {
        switch (view) {
          case 'graph':
            return (
              <Card key={view} title="Call graph">
                {active && (
                  <Suspense fallback={<p className="placeholder">Drawing the graph…</p>}>
                    <DeploymentGraph
                      groups={groupWorkloads(current)}
                      calls={current?.calls ?? []}
                      {...(current?.layout ? { layout: current.layout } : {})}
                      policy={policy.value}
                      {...(current?.storefront ? { storefront: current.storefront } : {})}
                    />
                  </Suspense>
                )}
              </Card>
            );
          case 'matrix':
            return (
              <MatrixCard
                key={view}
                api={api}
                running={running}
                policyKey={policyKey}
                deploymentKey={deploymentKey}
                onProbed={() => setProbeRuns((n) => n + 1)}
              />
            );
          case 'flows':
            return <FlowLogCard key={view} api={api} active={active} />;
          case 'counters':
            return (
              <CountersCard
                key={view}
                api={api}
                running={running}
                active={active}
                refreshKey={`${current?.deployment ?? ''}|${policyKey}|${probeRuns}`}
              />
            );
          case 'editor':
            return (
              <PolicyEditorCard
                key={view}
                api={api}
                {...(current?.deployment ? { running: current.deployment } : {})}
                workloads={current?.workloads ?? []}
                refreshKey={`${policyKey}|${deploymentKey}`}
                {...(workspace ? { workspace } : {})}
                onApplied={onChanged}
              />
            );
          case 'load':
            return <LiveLoad key={view} api={api} />;
          case 'terminal':
            return <TerminalCard key={view} request={terminal} onOpen={onTerminal} />;
          default:
            return null;
        }
      })}
    </div>
  );
}

/** The figures of the load running now (started by a step's action or the Load tab), second by second. */
function LiveLoad({ api }: { api: Api }) {
  const [updates, setUpdates] = useState<LoadUpdate[]>([]);
  useEffect(
    () =>
      api.on('load:update', (update) =>
        setUpdates((prev) =>
          prev.length > 0 && prev[0]!.taskId !== update.taskId ? [update] : [...prev, update],
        ),
      ),
    [api],
  );
  const last = updates.at(-1);
  const all = last?.window.find((w) => w.endpoint === 'all');
  return (
    <Card title="Load">
      {updates.length === 0 ? (
        <p className="placeholder">The load's figures show here, second by second, while a load runs.</p>
      ) : (
        <>
          {all && (
            <p className="small" role="status">
              {Math.round(all.rps)} req/s, p95 {ms(all.p95)}, {all.errors} errors in the last second
              {last && last.elapsed >= last.duration ? ' · finished' : ''}
            </p>
          )}
          <LoadChart updates={updates} />
        </>
      )}
    </Card>
  );
}

/** The step's terminal: it opens in the terminal panel at the bottom; this says where and what to type. */
function TerminalCard({
  request,
  onOpen,
}: {
  request?: TerminalRequest;
  onOpen: (request: TerminalRequest) => void;
}) {
  return (
    <Card
      title="Terminal"
      actions={
        request && (
          <button type="button" onClick={() => onOpen(request)}>
            Open again
          </button>
        )
      }
    >
      {request ? (
        <div className="terminal-request" role="status">
          <p>
            A shell in <span className="mono">{request.workload}</span>
            {request.firewall ? " (its firewall: the pod's holder)" : ''} is open in the terminal panel below
            {request.command ? ', with this typed in:' : '.'}
          </p>
          {request.command && <pre className="mono">{request.command}</pre>}
          <p className="small muted">
            From a terminal on this machine:{' '}
            <span className="mono">
              microlab shell {request.workload}
              {request.firewall ? ' --firewall' : ''}
            </span>
          </p>
        </div>
      ) : (
        <p className="placeholder">The step's terminal button opens a shell in the terminal panel below.</p>
      )}
    </Card>
  );
}
