import { useCallback, useState } from 'react';
import type { Api, DeploymentStatus, LabDetail, LabStatus } from '../../../../electron/api/contract';
import type { PolicyShow } from '../../../../electron/api/firewall';
import { CallError } from '../CallError';
import { ErrorNotice } from '../ErrorNotice';
import { Markdown } from '../Markdown';
import { TaskPanel } from '../TaskPanel';
import { useFollowedTask } from '../../hooks/useFollowedTask';
import { useTerminal } from '../../terminal/TerminalContext';
import type { Loaded } from '../../hooks/useLoader';
import { useLoader } from '../../hooks/useLoader';
import { LabSummaryCard } from './LabSummaryCard';
import type { TerminalRequest } from './LiveViews';
import { LiveViews } from './LiveViews';
import { StepGuide } from './StepGuide';

/**
 * An open lab: the guide on the left (intro, the steps as a list, the current step; at the
 * end, the summary with the student's own numbers) and the live views the step needs on the
 * right. Where the student is comes from the services (`labs:status`), so a reload of the UI,
 * or a restart of the app, opens the lab where it stopped.
 */
export function LabPage({
  api,
  lab,
  labStatus,
  deployment,
  policy,
  active,
  onBack,
  onChanged,
}: {
  api: Api;
  lab: string;
  labStatus: Loaded<LabStatus>;
  deployment: Loaded<DeploymentStatus>;
  policy: Loaded<PolicyShow>;
  active: boolean;
  onBack: () => void;
  /** The lab's progress or the deployment changed. */
  onChanged: () => void;
}) {
  const detail = useLoader(useCallback(() => api.call('labs:get', { lab }), [api, lab]));
  const status = labStatus.value;
  const isActive = status?.lab === lab;
  const progress = isActive ? status?.progress : undefined;
  const completed = progress?.state === 'completed';
  const summary = useLoader(
    useCallback(
      () => (completed ? api.call('labs:summary', { lab }) : Promise.resolve(undefined)),
      [api, lab, completed],
    ),
  );
  const { reload: reloadSummary } = summary;
  const changed = useCallback(() => {
    onChanged();
    reloadSummary();
  }, [onChanged, reloadSummary]);
  const task = useFollowedTask(api, changed);
  const [terminal, setTerminal] = useState<TerminalRequest>();
  const { openTerminal } = useTerminal();
  // A step's terminal button opens a shell in the terminal panel (the command typed there).
  const onTerminal = useCallback(
    (request: TerminalRequest) => {
      setTerminal(request);
      openTerminal({
        workload: request.workload,
        ...(request.firewall ? { firewall: true } : {}),
        ...(request.command ? { command: request.command } : {}),
      });
    },
    [openTerminal],
  );

  const d = detail.value;
  const step = d && isActive && status?.step ? d.steps[status.step - 1] : undefined;
  const workspaceFile = d && step ? workspaceFileOf(d, step.index) : undefined;
  if (detail.error) return <CallError title={`Could not open the lab ${lab}`} error={detail.error} />;
  if (!d) return <p className="placeholder">Opening the lab…</p>;

  return (
    <div className="lab-page">
      <header className="lab-page-header">
        <button type="button" className="link" onClick={onBack}>
          ← All labs
        </button>
        <h2>{d.title}</h2>
        <p className="muted small">
          {d.quadrant.app}, {d.quadrant.network} · ~{d.minutes} min
          {d.coreMinutes < d.minutes ? ` (core ${d.coreMinutes} min)` : ''} · {d.steps.length} steps
        </p>
        {isActive && (
          <button
            type="button"
            className="danger"
            disabled={task.busy}
            onClick={() => task.start('Reset lab', () => api.call('labs:reset', {}))}
          >
            Reset lab
          </button>
        )}
      </header>
      <div className="lab-columns">
        <div className="lab-guide">
          <StepList detail={d} status={isActive ? status : undefined} />
          {!isActive && <Start api={api} detail={d} task={task} />}
          {isActive && !completed && step && (
            <StepGuide
              key={step.id}
              api={api}
              step={step}
              steps={d.steps.length}
              {...(progress?.steps[step.id] ? { progress: progress.steps[step.id] } : {})}
              task={task}
              onTerminal={(workload, command, firewall) =>
                onTerminal({ workload, firewall, ...(command ? { command } : {}) })
              }
              onChanged={changed}
            />
          )}
          {completed && summary.value && <LabSummaryCard summary={summary.value} />}
          {completed && summary.error && (
            <ErrorNotice title="The summary could not be read" error={summary.error} />
          )}
          {isActive && !step && !completed && task.task && (
            <TaskPanel task={task.task} canceling={false} onCancel={() => undefined} />
          )}
        </div>
        <div className="lab-live">
          <LiveViews
            api={api}
            views={step?.views ?? (completed ? [] : ['graph'])}
            status={deployment}
            policy={policy}
            active={active}
            {...(terminal ? { terminal } : {})}
            {...(workspaceFile && step?.views.includes('editor')
              ? {
                  workspace: {
                    lab,
                    file: workspaceFile,
                    version: `${task.task?.id ?? ''}:${task.task?.state ?? ''}`,
                  },
                }
              : {})}
            onTerminal={onTerminal}
            onChanged={changed}
          />
        </div>
      </div>
    </div>
  );
}

function StepList({ detail, status }: { detail: LabDetail; status?: LabStatus }) {
  return (
    <ol className="step-list" aria-label="Steps">
      {detail.steps.map((s) => {
        const outcome = status?.progress?.steps[s.id]?.outcome ?? 'pending';
        const current = status?.step === s.index;
        return (
          <li
            key={s.id}
            className={`step-list-item step-list-${outcome} ${current ? 'step-list-current' : ''}`}
            aria-current={current ? 'step' : undefined}
          >
            <span className="step-list-mark" aria-hidden="true">
              {outcome === 'passed' ? '✓' : outcome === 'solved' ? '◐' : current ? '▸' : '○'}
            </span>
            {s.title}
            {s.optional && <span className="small muted"> (optional)</span>}
            <span className="visually-hidden">
              {outcome === 'passed' ? ' (passed)' : outcome === 'solved' ? ' (solved with help)' : ''}
            </span>
          </li>
        );
      })}
    </ol>
  );
}

function Start({
  api,
  detail,
  task,
}: {
  api: Api;
  detail: LabDetail;
  task: ReturnType<typeof useFollowedTask>;
}) {
  // Steps are done in order: continue at the first one not done.
  const next = detail.stepsPassed + detail.stepsSolved + 1;
  const resume = detail.state === 'in-progress' && next > 1 && next <= detail.steps.length;
  return (
    <section className="lab-intro" aria-label="Introduction">
      <Markdown text={detail.intro} />
      <p className="small muted">
        {resume
          ? `Continuing brings the state to step ${next}'s start (through the earlier steps' solutions), from `
          : 'Starting sets up '}
        the {detail.setup.deployment}
        {detail.setup.layout === 'perimeter' ? ' behind a perimeter firewall' : ''}
        {detail.setup.policy ? ` with ${detail.setup.policy}` : ''}; it replaces what runs now.
      </p>
      <p>
        <button
          type="button"
          className="primary"
          disabled={task.busy}
          onClick={() =>
            task.start('Start the lab', () =>
              api.call('labs:start', { lab: detail.id, ...(resume ? { step: next } : {}) }),
            )
          }
        >
          {resume
            ? `Continue at step ${next}`
            : detail.state === 'completed'
              ? 'Start the lab again'
              : 'Start the lab'}
        </button>
      </p>
      {task.error && <ErrorNotice title="The lab could not start" error={task.error} />}
      {task.task && <TaskPanel task={task.task} canceling={false} onCancel={() => undefined} />}
    </section>
  );
}

/**
 * The workspace file the student works on at step `index`: the last one a step up to it hands
 * out (a `workspace` action or solve entry: its `as`, else its file), or undefined.
 */
function workspaceFileOf(detail: LabDetail, index: number): string | undefined {
  let file: string | undefined;
  for (const s of detail.steps.slice(0, index))
    for (const a of s.actions) if (a.action.kind === 'workspace') file = a.action.as ?? a.action.file;
  return file;
}
