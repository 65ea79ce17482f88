import { useCallback, useState } from 'react';
import type { Api } from '../../../electron/api/contract';
import type { UiError } from '../errors';
import { toUiError } from '../errors';
import { useClassStatus } from '../hooks/useClassStatus';
import { useTask } from '../hooks/useTask';
import { Card } from './Card';
import { ErrorNotice } from './ErrorNotice';
import { TaskPanel } from './TaskPanel';

/**
 * Joining a live class from the first screen: the join code pasted (sent to the services once,
 * never shown again), then where this MicroLab is in the class: waiting for the instructor or
 * in, the room's messages, the labs released, and the instructor's catch-up suggestions, each
 * accepted by the student's own click (it starts the lab at that step).
 */
export function JoinClassCard({ api }: { api: Api }) {
  const { status, error: statusError, set } = useClassStatus(api);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError>();
  const catchUp = useTask(
    api,
    'labs:start',
    useCallback(() => undefined, []),
  );
  const { start } = catchUp;

  const act = (run: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    run().then(
      () => setBusy(false),
      (err: unknown) => {
        setError(toUiError(err));
        setBusy(false);
      },
    );
  };
  const join = (input: { code?: string }) =>
    act(async () => {
      set(await api.call('class:join', input));
      setCode('');
    });

  return (
    <Card title="Join a class">
      {statusError && <ErrorNotice title="Could not read the class" error={statusError} />}
      {status && !status.joined && (
        <form
          className="class-join-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (code.trim()) join({ code: code.trim() });
          }}
        >
          <p className="muted">
            In a live class, paste the join code your instructor shows (it starts with MLC1.): your lab
            progress and the doctor&apos;s result go to the instructor&apos;s dashboard as you work.
          </p>
          <label className="field">
            <span className="field-label">Join code</span>
            <input
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={code}
              maxLength={1000}
              onChange={(e) => setCode(e.currentTarget.value)}
            />
          </label>
          <button type="submit" disabled={busy || !code.trim()}>
            {busy ? 'Joining…' : 'Join'}
          </button>
          {status.saved && (
            <button type="button" disabled={busy} onClick={() => join({})}>
              Reconnect to the class joined before
            </button>
          )}
        </form>
      )}
      {status?.joined && (
        <div className="class-joined">
          <p className="class-phase" data-phase={status.phase}>
            {status.phase === 'pending'
              ? `Waiting for the instructor to let you in${status.student ? ` (you are ${status.student})` : ''}…`
              : status.phase === 'joined'
                ? `In the class at ${status.host} as ${status.student ?? '?'}: your progress is sent as you work${status.pending ? ` (${status.pending} events wait)` : ''}.`
                : 'The class has ended.'}
          </p>
          {status.problem && (
            <ErrorNotice
              title="The class connection stopped"
              error={{ code: 'class', message: status.problem }}
            />
          )}
          {status.released.length > 0 && (
            <p className="class-released">Labs released: {status.released.join(', ')}</p>
          )}
          {status.catchUps.length > 0 && (
            <ul className="class-catch-ups" aria-label="Catch-up suggestions">
              {status.catchUps.map((c) => (
                <li key={c.id} data-catch-up={c.id}>
                  The instructor suggests catching up to step {c.step} of {c.lab}
                  {c.student ? '' : ' (to the room)'}.{' '}
                  {c.accepted ? (
                    <span className="badge">accepted</span>
                  ) : (
                    <button
                      type="button"
                      disabled={busy || catchUp.starting || catchUp.task?.state === 'running'}
                      onClick={() => start(() => api.call('class:accept', { catchUp: c.id }))}
                    >
                      Catch up to step {c.step}
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
          {catchUp.task && (
            <TaskPanel task={catchUp.task} canceling={catchUp.canceling} onCancel={catchUp.cancel} />
          )}
          {catchUp.error && <ErrorNotice title="Could not catch up" error={catchUp.error} />}
          {status.messages.length > 0 && (
            <ul className="class-messages" aria-label="Messages from the instructor">
              {status.messages.map((m) => (
                <li key={m.at}>{m.text}</li>
              ))}
            </ul>
          )}
          <button
            type="button"
            disabled={busy}
            onClick={() => act(async () => set(await api.call('class:leave', {})))}
          >
            Leave the class
          </button>
        </div>
      )}
      {error && <ErrorNotice title="The class was not joined" error={error} />}
    </Card>
  );
}
