import { useState } from 'react';
import type {
  Api,
  CheckReport,
  HintReply,
  LabActionInfo,
  LabStepInfo,
  StepProgress,
} from '../../../../electron/api/contract';
import type { UiError } from '../../errors';
import { toUiError } from '../../errors';
import type { OneTask } from '../../hooks/useFollowedTask';
import { ErrorNotice } from '../ErrorNotice';
import { Markdown } from '../Markdown';
import { TaskPanel } from '../TaskPanel';

/** What the student asked for last, shown under the buttons. */
type Reply =
  | { kind: 'check'; report: CheckReport }
  | { kind: 'hint'; hint: HintReply }
  | { kind: 'error'; title: string; error: UiError };

/**
 * One step of an open lab: its text, its action buttons, its questions, and Check (each
 * condition passed or failed, with the reason the services give), progressive hints, Show me,
 * Reset step, and Next once it is done. Long work (actions, Show me, resets) runs as a task
 * followed here.
 */
export function StepGuide({
  api,
  step,
  steps,
  progress,
  task,
  onTerminal,
  onChanged,
}: {
  api: Api;
  step: LabStepInfo;
  steps: number;
  progress?: StepProgress;
  task: OneTask;
  /** Opens a terminal in a workload (its firewall, the pod's holder, with `firewall`), typing `command` there. */
  onTerminal: (workload: string, command: string | undefined, firewall: boolean) => void;
  /** Progress or state changed: read the lab's status again. */
  onChanged: () => void;
}) {
  const [reply, setReply] = useState<Reply>();
  const [busy, setBusy] = useState<string>();
  const [hints, setHints] = useState<string[]>([]);
  /** The task followed is a load: the step's other buttons stay usable (a change made under load). */
  const [loading, setLoading] = useState(false);
  const outcome = progress?.outcome ?? 'pending';
  const shown = Math.max(hints.length, progress?.hintsShown ?? 0);

  const call = <T,>(what: string, title: string, run: () => Promise<T>, done: (value: T) => void) => {
    setBusy(what);
    run().then(
      (value) => {
        setBusy(undefined);
        done(value);
        onChanged();
      },
      (err: unknown) => {
        setBusy(undefined);
        setReply({ kind: 'error', title, error: toUiError(err) });
      },
    );
  };

  const onAction = (entry: LabActionInfo) => {
    const action = entry.action;
    if (action.kind === 'terminal') {
      onTerminal(action.workload, action.command, action.firewall ?? false);
      return;
    }
    setReply(undefined);
    setLoading(action.kind === 'load');
    task.start(entry.label, () => api.call('labs:action', { action: entry.id }));
  };
  const onCheck = () =>
    call(
      'check',
      'The checks could not run',
      () => api.call('labs:check', {}),
      (report) => setReply({ kind: 'check', report }),
    );
  const onHint = () =>
    call(
      'hint',
      'No hint',
      () => api.call('labs:hint', {}),
      (hint) => {
        setHints(hint.shown);
        setReply({ kind: 'hint', hint });
      },
    );
  const onSolve = () => {
    setReply(undefined);
    task.start('Show me', () => api.call('labs:solve', {}));
  };
  const onReset = () => {
    setReply(undefined);
    setHints([]);
    task.start('Reset step', () => api.call('labs:reset', { step: step.index }));
  };
  const onNext = () =>
    call(
      'next',
      'Could not go on',
      () => api.call('labs:next', {}),
      () => {
        setReply(undefined);
        setHints([]);
        task.clear();
      },
    );

  const disabled = !!busy || task.busy;
  const unpredicted = outcome === 'pending' && step.predict.some((q) => !progress?.predictions?.[q.id]);
  return (
    <section className="step" aria-label={`Step ${step.index}: ${step.title}`}>
      <header className="step-header">
        <p className="step-count">
          Step {step.index} of {steps}
        </p>
        <h3>{step.title}</h3>
        <StepOutcome outcome={outcome} attempts={progress?.attempts ?? 0} />
      </header>
      <Markdown text={step.text} />
      {step.predict.length > 0 && (
        <section className="predictions" aria-label="Predict first">
          <p className="predictions-title">Predict first</p>
          <p className="small muted">
            Before you measure, write down what you expect. A prediction is final once recorded; the summary
            shows it next to your number.
          </p>
          {step.predict.map((q) => (
            <Prediction
              key={q.id}
              api={api}
              question={q}
              recorded={progress?.predictions?.[q.id]?.answer}
              open={outcome === 'pending'}
              onAnswered={onChanged}
            />
          ))}
        </section>
      )}
      {step.actions.length > 0 && (
        <div className="step-actions" role="group" aria-label="Actions">
          {step.actions.map((entry) => (
            <button
              key={entry.id}
              type="button"
              onClick={() => onAction(entry)}
              disabled={
                !!busy ||
                (task.busy && !(loading && entry.action.kind !== 'load')) ||
                (unpredicted && entry.action.kind !== 'workspace')
              }
              title={unpredicted ? 'Record your prediction first' : undefined}
            >
              {entry.label}
            </button>
          ))}
        </div>
      )}
      {step.questions.map((q) => (
        <Question key={q.id} api={api} question={q} answer={progress?.answers[q.id]} onAnswered={onChanged} />
      ))}
      {step.checks.length > 0 && (
        <details className="step-checks-list">
          <summary>What Check verifies ({step.checks.length})</summary>
          <ul>
            {step.checks.map((c) => (
              <li key={c.id}>{c.description}</li>
            ))}
          </ul>
        </details>
      )}
      <div className="step-buttons">
        <button type="button" className="primary" onClick={onCheck} disabled={disabled}>
          {busy === 'check' ? 'Checking…' : 'Check'}
        </button>
        <button type="button" onClick={onHint} disabled={disabled || (step.hints > 0 && shown >= step.hints)}>
          {step.hints === 0
            ? 'No hints'
            : shown >= step.hints
              ? 'No more hints'
              : `Hint (${shown + 1} of ${step.hints})`}
        </button>
        <button type="button" onClick={onSolve} disabled={disabled}>
          Show me
        </button>
        <button type="button" onClick={onReset} disabled={disabled}>
          Reset step
        </button>
        <span className="spacer" />
        <button
          type="button"
          className={outcome === 'pending' ? '' : 'primary'}
          onClick={onNext}
          disabled={disabled || (outcome === 'pending' && !step.optional)}
          hidden={step.index >= steps && !(step.optional && outcome === 'pending')}
        >
          {outcome !== 'pending'
            ? 'Next step'
            : step.index >= steps
              ? 'Skip this optional step and finish'
              : step.optional
                ? 'Skip this optional step'
                : 'Next step'}
        </button>
      </div>
      {(task.task || task.error) && (
        <div className="step-task">
          {task.error && (
            <ErrorNotice title={`${task.label ?? 'The action'} could not start`} error={task.error} />
          )}
          {task.task && <TaskPanel task={task.task} canceling={false} onCancel={() => undefined} />}
        </div>
      )}
      {reply?.kind === 'check' && <CheckResults report={reply.report} />}
      {outcome !== 'pending' && step.explain.length > 0 && (
        <section className="explanations" aria-label="Explain">
          <p className="predictions-title">Explain</p>
          {step.explain.map((q) => (
            <Explanation
              key={q.id}
              api={api}
              question={q}
              answer={progress?.explanations?.[q.id]}
              onAnswered={onChanged}
            />
          ))}
        </section>
      )}
      {reply?.kind === 'error' && <ErrorNotice title={reply.title} error={reply.error} />}
      {hints.length > 0 && (
        <section className="hints" aria-label="Hints">
          <p className="hints-title">{hints.length === 1 ? 'Hint' : 'Hints'}</p>
          <ol>
            {hints.map((h, i) => (
              <li key={i}>
                <Markdown text={h} />
              </li>
            ))}
          </ol>
        </section>
      )}
    </section>
  );
}

function StepOutcome({ outcome, attempts }: { outcome: string; attempts: number }) {
  const text =
    outcome === 'passed'
      ? 'Passed'
      : outcome === 'solved'
        ? 'Solved with “Show me”'
        : attempts > 0
          ? `Not passed yet (${attempts} ${attempts === 1 ? 'check' : 'checks'})`
          : 'Not checked yet';
  return <p className={`step-outcome step-outcome-${outcome}`}>{text}</p>;
}

/** Each condition, passed or failed, with the services' reason. */
export function CheckResults({ report }: { report: CheckReport }) {
  const failed = report.results.filter((r) => !r.passed).length;
  return (
    <div
      className={`notice ${report.passed ? 'notice-success' : 'notice-error'}`}
      role="status"
      aria-label="Check"
    >
      <p className="notice-title">
        {report.passed
          ? report.outcome === 'solved'
            ? 'Every check passes (the step was solved with “Show me”)'
            : 'Every check passes: step done'
          : `${failed} of ${report.results.length} checks fail`}
      </p>
      <ul className="check-results">
        {report.results.map((r) => (
          <li key={r.id} className={r.passed ? 'check-pass' : 'check-fail'} data-passed={String(r.passed)}>
            <span className="check-mark" aria-hidden="true">
              {r.passed ? '✓' : '✗'}
            </span>
            <span className="visually-hidden">{r.passed ? 'passed' : 'failed'}: </span>
            <strong>{r.description}</strong>: {r.message}
          </li>
        ))}
      </ul>
      {report.measurements.length > 0 && (
        <p className="small">
          Recorded: {report.measurements.map((m) => `${m.label}: ${m.value} ${m.unit}`).join('; ')}
        </p>
      )}
      {report.notRecorded.length > 0 && (
        <p className="small muted">Not recorded: {report.notRecorded.join('; ')}</p>
      )}
    </div>
  );
}

function Question({
  api,
  question,
  answer,
  onAnswered,
}: {
  api: Api;
  question: LabStepInfo['questions'][number];
  answer?: string;
  onAnswered: () => void;
}) {
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<UiError>();
  const send = (value: string) => {
    setError(undefined);
    api
      .call('labs:answer', { question: question.id, answer: value })
      .then(onAnswered, (err: unknown) => setError(toUiError(err)));
  };
  return (
    <fieldset className="question">
      <legend>
        <Markdown text={question.text} />
      </legend>
      {question.choices ? (
        <Choices name={`q-${question.id}`} choices={question.choices} value={answer} onPick={send} />
      ) : (
        <form
          className="question-free"
          onSubmit={(e) => {
            e.preventDefault();
            if (draft.trim()) send(draft.trim());
          }}
        >
          <input
            type="text"
            aria-label="Your answer"
            value={draft}
            placeholder={answer ?? ''}
            onChange={(e) => setDraft(e.currentTarget.value)}
          />
          <button type="submit">Answer</button>
          {answer && <span className="small muted"> Your answer: {answer}</span>}
        </form>
      )}
      {error && <ErrorNotice title="The answer was not recorded" error={error} />}
    </fieldset>
  );
}

/** A prediction: chosen or written, then recorded once (the services refuse a second answer). */
function Prediction({
  api,
  question,
  recorded,
  open,
  onAnswered,
}: {
  api: Api;
  question: LabStepInfo['predict'][number];
  recorded?: string;
  open: boolean;
  onAnswered: () => void;
}) {
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<UiError>();
  if (recorded !== undefined || !open)
    return (
      <fieldset className="question prediction" data-prediction={question.id}>
        <legend>
          <Markdown text={question.text} />
        </legend>
        <p className="small">
          {recorded !== undefined ? (
            <>
              You predicted: <strong>{recorded}</strong>
            </>
          ) : (
            'No prediction was recorded before the step was done.'
          )}
        </p>
      </fieldset>
    );
  const record = () => {
    setError(undefined);
    api
      .call('labs:answer', { question: question.id, answer: draft.trim() })
      .then(onAnswered, (err: unknown) => setError(toUiError(err)));
  };
  return (
    <fieldset className="question prediction" data-prediction={question.id}>
      <legend>
        <Markdown text={question.text} />
      </legend>
      <form
        className="question-free"
        onSubmit={(e) => {
          e.preventDefault();
          if (draft.trim()) record();
        }}
      >
        {question.choices ? (
          <Choices name={`p-${question.id}`} choices={question.choices} value={draft} onPick={setDraft} />
        ) : (
          <input
            type="text"
            aria-label="Your prediction"
            value={draft}
            onChange={(e) => setDraft(e.currentTarget.value)}
          />
        )}
        <button type="submit" disabled={!draft.trim()}>
          Record prediction
        </button>
      </form>
      {error && <ErrorNotice title="The prediction was not recorded" error={error} />}
    </fieldset>
  );
}

/** A why question, answered in the student's words once the step is done. */
function Explanation({
  api,
  question,
  answer,
  onAnswered,
}: {
  api: Api;
  question: LabStepInfo['explain'][number];
  answer?: string;
  onAnswered: () => void;
}) {
  const [draft, setDraft] = useState(answer ?? '');
  const [error, setError] = useState<UiError>();
  return (
    <fieldset className="question explanation" data-explain={question.id}>
      <legend>
        <Markdown text={question.text} />
      </legend>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setError(undefined);
          api
            .call('labs:answer', { question: question.id, answer: draft.trim() })
            .then(onAnswered, (err: unknown) => setError(toUiError(err)));
        }}
      >
        <textarea
          aria-label="Your explanation"
          rows={3}
          maxLength={500}
          value={draft}
          onChange={(e) => setDraft(e.currentTarget.value)}
        />
        <button type="submit" disabled={!draft.trim()}>
          {answer ? 'Update' : 'Save'}
        </button>
        {answer && <span className="small muted"> Saved.</span>}
      </form>
      {error && <ErrorNotice title="The explanation was not recorded" error={error} />}
    </fieldset>
  );
}

/** Offered answers as radio buttons; `onPick` gets the one chosen. */
function Choices({
  name,
  choices,
  value,
  onPick,
}: {
  name: string;
  choices: string[];
  value?: string;
  onPick: (choice: string) => void;
}) {
  return (
    <div className="question-choices">
      {choices.map((c) => (
        <label key={c} className="inline-field">
          <input type="radio" name={name} value={c} checked={value === c} onChange={() => onPick(c)} />
          <span>{c}</span>
        </label>
      ))}
    </div>
  );
}
