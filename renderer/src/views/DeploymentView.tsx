import { lazy, Suspense, useCallback, useState } from 'react';
import type {
  Api,
  DeploymentName,
  DeploymentStatus,
  DownReport,
  Layout,
} from '../../../electron/api/contract';
import { DEPLOYMENTS, LAYOUTS } from '../../../electron/api/vocabulary';
import type { PolicyShow } from '../../../electron/api/firewall';
import { BlastRadiusBar, useBlastRadius } from '../components/BlastRadiusBar';
import { Card } from '../components/Card';
import { CallError } from '../components/CallError';
import { ErrorNotice } from '../components/ErrorNotice';
import { Storefront } from '../components/Storefront';
import { TaskPanel } from '../components/TaskPanel';
import { OpenTerminalButtons } from '../terminal/OpenTerminalButtons';
import { formatBytes, plural } from '../format';
import { useAction } from '../hooks/useAction';
import type { Loaded } from '../hooks/useLoader';
import { useTask } from '../hooks/useTask';
import type { WorkloadGroup } from '../workloads';
import { describeStates, groupWorkloads } from '../workloads';

// React Flow is most of the bundle: it loads when the Deployment view first draws a graph.
const DeploymentGraph = lazy(() =>
  import('../components/DeploymentGraph').then((m) => ({ default: m.DeploymentGraph })),
);

const DEPLOYMENT_COPY: Record<DeploymentName, { title: string; text: string }> = {
  monolith: {
    title: 'Monolith',
    text: 'One app container with every module (catalog, cart, orders, payments, users) and one database.',
  },
  microservices: {
    title: 'Microservices',
    text: 'A gateway and five services, each with its own database; services scale and upgrade on their own.',
  },
};
const CHOICES = DEPLOYMENTS.map((name) => ({ name, ...DEPLOYMENT_COPY[name] }));

const LAYOUT_COPY: Record<Layout, { title: string; text: string }> = {
  flat: {
    title: 'Segment firewalls on every workload',
    text: 'Every workload on one network, each with its own small firewall next to it.',
  },
  perimeter: {
    title: 'One perimeter firewall between segments',
    text: 'A network per segment and one router between them; replicas and upgrades are not possible here.',
  },
};
const LAYOUT_CHOICES = LAYOUTS.map((name) => ({ name, ...LAYOUT_COPY[name] }));

/** What the choice of layout teaches, in one sentence. */
const LAYOUT_LESSON =
  'The same policy decides every call when each workload has its own firewall, but only the calls between segments when one perimeter firewall stands between them: inside a segment, nothing is checked.';

const layoutTitle = (layout: Layout | undefined) =>
  layout === 'perimeter' ? ' behind a perimeter firewall' : '';

/** Start, watch, scale, upgrade and stop the shop; its call graph under the policy in force. */
export function DeploymentView({
  api,
  status,
  policy,
  active,
  onChanged,
}: {
  api: Api;
  status: Loaded<DeploymentStatus>;
  policy: Loaded<PolicyShow>;
  /** Whether the view is on screen: React Flow measures what it draws, which a hidden view cannot. */
  active: boolean;
  onChanged: () => void;
}) {
  const [choice, setChoice] = useState<DeploymentName>('monolith');
  const [layout, setLayout] = useState<Layout>('flat');
  const up = useTask(api, 'deploy:up', onChanged);
  const scale = useTask(api, 'deploy:scale', onChanged);
  const upgrade = useTask(api, 'deploy:upgrade', onChanged);
  const stop = useAction<DownReport>(onChanged);
  const [compromised, setCompromised] = useState<string | undefined>();

  const current = status.value;
  const running = current?.deployment;
  const runningLayout = running ? (current.layout ?? 'flat') : undefined;
  const busy = up.starting || up.task?.state === 'running';
  const groups = groupWorkloads(current);
  // The blast radius is probed again when the deployment, its layout, its health or the policy changes.
  const source = policy.value?.source;
  const picked = compromised && groups.some((g) => g.name === compromised) ? compromised : undefined;
  const blast = useBlastRadius(
    api,
    picked,
    `${running ?? ''}:${runningLayout ?? ''}:${current?.healthy ? 'healthy' : 'not healthy'}:${source ? `${source.file}@${source.appliedAt}` : 'no policy'}`,
  );
  const { start: startUp } = up;
  const onStart = useCallback(() => {
    stop.clear();
    startUp(() => api.call('deploy:up', { deployment: choice, ...(layout === 'flat' ? {} : { layout }) }));
  }, [api, choice, layout, startUp, stop]);
  const onStop = () => stop.run(() => api.call('deploy:down', {}));
  const operationRunning =
    scale.starting ||
    scale.task?.state === 'running' ||
    upgrade.starting ||
    upgrade.task?.state === 'running';

  return (
    <main className="layout layout-wide">
      <div className="span-all">
        <Card title="Deployment">
          <fieldset className="choices" disabled={busy}>
            <legend className="sr-only">What to start</legend>
            {CHOICES.map((c) => (
              <label key={c.name} className={`choice ${choice === c.name ? 'choice-on' : ''}`}>
                <input
                  type="radio"
                  name="deployment"
                  value={c.name}
                  checked={choice === c.name}
                  onChange={() => setChoice(c.name)}
                />
                <span className="choice-title">
                  {c.title}
                  {running === c.name && <span className="badge badge-ok">running</span>}
                </span>
                <span className="choice-text">{c.text}</span>
              </label>
            ))}
          </fieldset>
          <fieldset className="choices layouts" disabled={busy}>
            <legend className="choices-legend">Firewall layout</legend>
            {LAYOUT_CHOICES.map((c) => (
              <label key={c.name} className={`choice ${layout === c.name ? 'choice-on' : ''}`}>
                <input
                  type="radio"
                  name="layout"
                  value={c.name}
                  checked={layout === c.name}
                  onChange={() => setLayout(c.name)}
                />
                <span className="choice-title">
                  {c.title}
                  {running && runningLayout === c.name && <span className="badge badge-ok">running</span>}
                </span>
                <span className="choice-text">{c.text}</span>
              </label>
            ))}
            <p className="choices-note muted">{LAYOUT_LESSON}</p>
          </fieldset>
          <div className="actions-row">
            <button type="button" className="primary" onClick={onStart} disabled={busy || stop.running}>
              {busy ? 'Starting…' : `Start the ${choice}${layoutTitle(layout)}`}
            </button>
            <button
              type="button"
              className="danger"
              onClick={onStop}
              disabled={!running || busy || stop.running}
            >
              {stop.running ? 'Stopping…' : 'Stop the deployment'}
            </button>
            {running && (running !== choice || runningLayout !== layout) && !busy && (
              <span className="muted">
                This replaces the {running}
                {layoutTitle(runningLayout)}.
              </span>
            )}
          </div>
          {up.error && <ErrorNotice title="Could not start the deployment" error={up.error} />}
          {up.task && <TaskPanel task={up.task} canceling={up.canceling} onCancel={up.cancel} />}
          {stop.error && <ErrorNotice title="Could not stop the deployment" error={stop.error} />}
          {stop.value && <StopResult report={stop.value} />}
        </Card>
      </div>
      <div className="span-all">
        <Card title="Call graph">
          <BlastRadiusBar groups={groups} compromised={picked} onPick={setCompromised} blast={blast} />
          {active && (
            <Suspense fallback={<p className="placeholder">Drawing the graph…</p>}>
              <DeploymentGraph
                groups={groups}
                calls={current?.calls ?? []}
                {...(current?.layout ? { layout: current.layout } : {})}
                policy={policy.value}
                {...(current?.storefront ? { storefront: current.storefront } : {})}
                {...(picked && blast.value?.source === picked && !blast.running
                  ? { blast: blast.value }
                  : {})}
                onPick={setCompromised}
              />
            </Suspense>
          )}
        </Card>
      </div>
      <div className="span-all">
        <Card title="Status">
          {status.error && <CallError title="Could not read the deployment" error={status.error} />}
          {!current && status.loading && <p className="placeholder">Reading the deployment…</p>}
          {current && <Summary status={current} />}
          {groups.length > 0 && (
            <WorkloadTable
              groups={groups}
              disabled={busy || operationRunning}
              onScale={(service, replicas) =>
                scale.start(() => api.call('deploy:scale', { service, replicas }))
              }
              onUpgrade={(service) =>
                upgrade.start(() => api.call('deploy:upgrade', { service, version: 2 }))
              }
            />
          )}
          {scale.error && <ErrorNotice title="Could not scale" error={scale.error} />}
          {scale.task && <TaskPanel task={scale.task} canceling={scale.canceling} onCancel={scale.cancel} />}
          {upgrade.error && <ErrorNotice title="Could not upgrade" error={upgrade.error} />}
          {upgrade.task && (
            <TaskPanel task={upgrade.task} canceling={upgrade.canceling} onCancel={upgrade.cancel} />
          )}
        </Card>
      </div>
    </main>
  );
}

function Summary({ status }: { status: DeploymentStatus }) {
  if (!status.deployment) {
    return (
      <p className="placeholder">
        Nothing is running in project <span className="mono">{status.project}</span>. Start a deployment.
      </p>
    );
  }
  const containers = status.workloads.length;
  return (
    <div className="summary">
      <p>
        <span className={`badge ${status.healthy ? 'badge-ok' : 'badge-warn'}`}>
          {status.healthy ? 'healthy' : 'not healthy yet'}
        </span>{' '}
        The <strong>{status.deployment}</strong> runs in {plural(containers, 'container')}
        {status.layout === 'perimeter' && (
          <>
            {' '}
            behind one perimeter firewall, <span className="mono">perimeter-fw</span>
          </>
        )}
        .
      </p>
      {status.layout === 'perimeter' && (
        <p className="muted small">
          Behind a perimeter every workload has one fixed address that the other segments point at: no service
          scales or upgrades here. Start the segment-firewall layout to try those.
        </p>
      )}
      {status.storefront && <Storefront url={status.storefront} />}
    </div>
  );
}

function WorkloadTable({
  groups,
  disabled,
  onScale,
  onUpgrade,
}: {
  groups: WorkloadGroup[];
  disabled: boolean;
  onScale: (service: string, replicas: number) => void;
  onUpgrade: (service: string) => void;
}) {
  return (
    <table className="table workloads" aria-label="Workloads">
      <thead>
        <tr>
          <th scope="col">Workload</th>
          <th scope="col" className="numeric">
            Replicas
          </th>
          <th scope="col">State</th>
          <th scope="col">Health</th>
          <th scope="col">IP</th>
          <th scope="col" className="numeric">
            Memory
          </th>
          <th scope="col">Version</th>
          <th scope="col">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {groups.map((g) => (
          <WorkloadRow key={g.name} group={g} disabled={disabled} onScale={onScale} onUpgrade={onUpgrade} />
        ))}
      </tbody>
    </table>
  );
}

function WorkloadRow({
  group: g,
  disabled,
  onScale,
  onUpgrade,
}: {
  group: WorkloadGroup;
  disabled: boolean;
  onScale: (service: string, replicas: number) => void;
  onUpgrade: (service: string) => void;
}) {
  const [replicas, setReplicas] = useState(g.replicas.length);
  const valid = Number.isInteger(replicas) && replicas >= 1 && replicas <= 10;
  return (
    <tr>
      <th scope="row">
        <span className="mono">{g.name}</span>
        <span className="muted small"> {g.segment}</span>
        {g.entry && (
          <span className="badge badge-entry" title="It serves the storefront">
            storefront
          </span>
        )}
      </th>
      <td className="numeric">{g.replicas.length}</td>
      <td>{describeStates(g.replicas)}</td>
      <td>
        <span className={`badge health-${g.health}`}>{g.health}</span>
      </td>
      <td className="mono small">
        {g.replicas.map((r) => (
          <div key={r.container} title={r.container}>
            {r.ip ?? '—'}
          </div>
        ))}
      </td>
      <td className="numeric">{g.memoryBytes !== undefined ? formatBytes(g.memoryBytes) : '—'}</td>
      <td>{g.versions.length ? g.versions.map((v) => `v${v}`).join(', ') : '—'}</td>
      <td className="row-actions">
        {g.scalable && (
          <span className="scale">
            <input
              type="number"
              min={1}
              max={10}
              value={Number.isNaN(replicas) ? '' : replicas}
              onChange={(e) => setReplicas(e.currentTarget.valueAsNumber)}
              aria-label={`Replicas of ${g.name}`}
            />
            <button
              type="button"
              onClick={() => onScale(g.name, replicas)}
              disabled={disabled || !valid || replicas === g.replicas.length}
            >
              Scale
            </button>
          </span>
        )}
        {g.upgradable && (
          <button
            type="button"
            onClick={() => onUpgrade(g.name)}
            disabled={disabled || g.versions.every((v) => v === '2')}
            aria-label={`Upgrade ${g.name} to version 2`}
          >
            Upgrade to v2
          </button>
        )}
        <OpenTerminalButtons workload={g.name} />
      </td>
    </tr>
  );
}

function StopResult({ report }: { report: DownReport }) {
  return (
    <div className={`notice ${report.failed.length ? 'notice-error' : 'notice-success'}`} role="status">
      <p className="notice-title">
        {report.removed.length
          ? `Stopped: removed ${plural(report.removed.length, 'resource')}.`
          : report.failed.length
            ? 'Nothing was removed.'
            : 'Nothing was running.'}
      </p>
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
