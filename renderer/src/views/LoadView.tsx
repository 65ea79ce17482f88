import { useCallback, useEffect, useState } from 'react';
import type {
  Api,
  DeploymentStatus,
  LoadEndpointStats,
  LoadReport,
  LoadScenario,
  LoadUpdate,
  TaskInfo,
} from '../../../electron/api/contract';
import { DEFAULT_LOAD_MIX, LOAD_SCENARIOS } from '../../../electron/api/vocabulary';
import { Card } from '../components/Card';
import { ErrorNotice } from '../components/ErrorNotice';
import { LoadChart, ms } from '../components/LoadChart';
import type { ViewName } from '../components/Tabs';
import { TaskPanel } from '../components/TaskPanel';
import { useAction } from '../hooks/useAction';
import type { Loaded } from '../hooks/useLoader';
import { useTask } from '../hooks/useTask';

// The services' default mix, every scenario listed (0 where the default leaves it out).
const DEFAULT_MIX = Object.fromEntries(LOAD_SCENARIOS.map((s) => [s, DEFAULT_LOAD_MIX[s] ?? 0])) as Record<
  LoadScenario,
  number
>;

/** Load the storefront: rate, duration and mix in; the live figures and the final report out. */
export function LoadView({
  api,
  status,
  onOpen,
}: {
  api: Api;
  status: Loaded<DeploymentStatus>;
  onOpen: (view: ViewName) => void;
}) {
  const [rate, setRate] = useState(20);
  const [duration, setDuration] = useState(20);
  const [mix, setMix] = useState<Record<LoadScenario, number>>(DEFAULT_MIX);
  const [updates, setUpdates] = useState<LoadUpdate[]>([]);
  const report = useAction<LoadReport>();
  const { run: runReport } = report;
  const onEnd = useCallback(
    (task: TaskInfo) => {
      if (task.state === 'succeeded') runReport(() => api.call('load:report', { taskId: task.id }));
    },
    [api, runReport],
  );
  const load = useTask(api, 'load:run', onEnd);
  const taskId = load.task?.id;

  useEffect(
    () =>
      api.on('load:update', (update) => {
        setUpdates((prev) =>
          prev.length > 0 && prev[0]!.taskId !== update.taskId ? [update] : [...prev, update],
        );
      }),
    [api],
  );
  // Figures of another run than the one on screen are not shown.
  const shown = updates.filter((u) => u.taskId === taskId);

  const running = load.starting || load.task?.state === 'running';
  const deployment = status.value?.deployment;
  const valid =
    rate > 0 && rate <= 1000 && duration >= 1 && duration <= 3600 && Object.values(mix).some((n) => n > 0);
  const onStart = () => {
    setUpdates([]);
    report.clear();
    load.start(() => api.call('load:run', { rate, duration, mix }));
  };

  return (
    <main className="layout layout-wide">
      <div className="column">
        <Card title="Run a load">
          {status.value && !deployment && (
            <div className="notice notice-neutral" role="status">
              <p className="notice-title">No deployment is running</p>
              <p className="notice-message">
                The load goes to the storefront.{' '}
                <button type="button" className="link" onClick={() => onOpen('deployment')}>
                  Start one in the Deployment view
                </button>
              </p>
            </div>
          )}
          <div className="form-grid">
            <label className="field">
              <span className="field-label">Rate (scenarios per second)</span>
              <input
                type="number"
                min={1}
                max={1000}
                value={Number.isNaN(rate) ? '' : rate}
                onChange={(e) => setRate(e.currentTarget.valueAsNumber)}
              />
            </label>
            <label className="field">
              <span className="field-label">Duration (seconds)</span>
              <input
                type="number"
                min={1}
                max={3600}
                value={Number.isNaN(duration) ? '' : duration}
                onChange={(e) => setDuration(e.currentTarget.valueAsNumber)}
              />
            </label>
          </div>
          <fieldset className="mix">
            <legend className="field-label">Mix (relative weights of the scenarios)</legend>
            {LOAD_SCENARIOS.map((s) => (
              <label key={s} className="field">
                <span className="field-label">{s}</span>
                <input
                  type="number"
                  min={0}
                  max={1000}
                  value={Number.isNaN(mix[s]) ? '' : mix[s]}
                  onChange={(e) => {
                    const n = e.currentTarget.valueAsNumber;
                    setMix((m) => ({ ...m, [s]: n }));
                  }}
                />
              </label>
            ))}
          </fieldset>
          <div className="actions-row">
            <button
              type="button"
              className="primary"
              onClick={onStart}
              disabled={running || !valid || !deployment}
            >
              {running ? 'Running…' : 'Start the load'}
            </button>
            {!valid && (
              <span className="muted">Rate 1–1000, duration 1–3600 s, and at least one scenario.</span>
            )}
          </div>
          {load.error && <ErrorNotice title="Could not start the load" error={load.error} />}
          {load.task && <TaskPanel task={load.task} canceling={load.canceling} onCancel={load.cancel} />}
        </Card>
      </div>
      <div className="column">
        <Card title="Live figures">
          {shown.length === 0 ? (
            <p className="placeholder">
              {running
                ? 'The first figures arrive after a second.'
                : 'Figures appear here, once a second, while a load runs.'}
            </p>
          ) : (
            <>
              <LoadChart updates={shown} />
              <EndpointTable
                label="Last second"
                rows={shown.at(-1)!.window}
                caption={`Second ${Math.round(shown.at(-1)!.elapsed)} of ${shown.at(-1)!.duration}`}
              />
            </>
          )}
        </Card>
      </div>
      <div className="span-all">
        <Card title="Report">
          {report.error && <ErrorNotice title="Could not read the report" error={report.error} />}
          {!report.value && !report.error && (
            <p className="placeholder">
              {report.running ? 'Reading the report…' : 'The totals appear when a load ends.'}
            </p>
          )}
          {report.value && <ReportView report={report.value} />}
        </Card>
      </div>
    </main>
  );
}

function ReportView({ report }: { report: LoadReport }) {
  return (
    <>
      <p>
        <strong>{report.deployment}</strong>: {report.rate}/s for {report.duration} s (ran{' '}
        {report.elapsed.toFixed(1)} s), mix{' '}
        {Object.entries(report.mix)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}
        . {report.started} scenarios started
        {report.dropped > 0 ? `, ${report.dropped} dropped (too many in flight)` : ''}.
      </p>
      <EndpointTable label="Totals" rows={report.endpoints} />
      {report.errorSamples.length > 0 && (
        <details className="source">
          <summary>Error samples ({report.errorSamples.length})</summary>
          <ul className="notice-list mono small">
            {report.errorSamples.map((e, i) => (
              <li key={i}>{e}</li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}

function EndpointTable({
  label,
  rows,
  caption,
}: {
  label: string;
  rows: LoadEndpointStats[];
  caption?: string;
}) {
  return (
    <table className="table compact" aria-label={label}>
      {caption && <caption>{caption}</caption>}
      <thead>
        <tr>
          <th scope="col">Endpoint</th>
          <th scope="col" className="numeric">
            Requests
          </th>
          <th scope="col" className="numeric">
            Errors
          </th>
          <th scope="col" className="numeric">
            req/s
          </th>
          <th scope="col" className="numeric">
            p50
          </th>
          <th scope="col" className="numeric">
            p95
          </th>
          <th scope="col" className="numeric">
            p99
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.endpoint} className={r.endpoint === 'all' ? 'row-total' : undefined}>
            <th scope="row" className="mono small">
              {r.endpoint}
            </th>
            <td className="numeric">{r.count}</td>
            <td className={`numeric ${r.errors ? 'text-fail' : ''}`}>{r.errors}</td>
            <td className="numeric">{r.rps.toFixed(1)}</td>
            <td className="numeric">{ms(r.p50)}</td>
            <td className="numeric">{ms(r.p95)}</td>
            <td className="numeric">{ms(r.p99)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
