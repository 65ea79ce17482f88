/**
 * The instructor's dashboard of a live class, served by `microlab class host` (the same app, at
 * the host's own address; the instructor token in the page's fragment, never sent in a URL):
 * who is on which lab and step, which check each fails and how often in a row, who is stuck, the
 * check most students fail on each step, the room's readiness, the class's numbers per
 * measure (a strip plot: median, range, each student's dot) and claim, the class report's
 * export (CSV and JSON), and the instructor's actions (approve, revoke, a message to the room,
 * release the next lab, suggest "catch up to step N" to a student or the room, end).
 */
import { useCallback, useEffect, useState } from 'react';
import type { ClassCatchUp, ClassDashboard, ClassDashboardStudent } from '../../../electron/api/class';
import { Card } from '../components/Card';
import { CLASS_DASHBOARD_POLL_MS } from '../../../electron/api/class';
import { ClassMeasure } from './ClassMeasure';
import './ClassView.css';

/** The fragment's key that carries the instructor token: `#class=TOKEN`. */
export const CLASS_FRAGMENT = 'class';

export function classToken(hash: string): string | undefined {
  const value = new URLSearchParams(hash.replace(/^#/, '')).get(CLASS_FRAGMENT);
  return value || undefined;
}

async function classCall<T>(
  token: string,
  method: 'GET' | 'POST',
  route: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`/class/v1/${route}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const data = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(data.error ?? `the class host answered ${res.status}`);
  return data;
}

/**
 * Saves the class report the host makes from its ledger (`report`: class-report.json;
 * `report.csv`: class-report.csv), fetched with the instructor token (a plain link would not
 * carry it) and handed to the browser as a file.
 */
async function downloadReport(token: string, route: 'report' | 'report.csv'): Promise<void> {
  const res = await fetch(`/class/v1/${route}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) {
    const data = (await res.json().catch(() => ({}))) as { error?: string };
    throw new Error(data.error ?? `the class host answered ${res.status}`);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = route === 'report' ? 'class-report.json' : 'class-report.csv';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The "minutes on step" cell: minutes on the current step, done once passed, – before any lab. */
export function minutesText(s: Pick<ClassDashboardStudent, 'lab' | 'minutesOnStep'>): string {
  if (!s.lab) return '–';
  return s.minutesOnStep === null ? 'done' : String(s.minutesOnStep);
}

/** The latest catch-up suggested to `student` (or the room), and whether the student accepted it. */
function catchUpText(student: string, catchUps: ClassCatchUp[]): string {
  const last = catchUps.filter((c) => c.student === undefined || c.student === student).at(-1);
  if (!last) return '–';
  const accepted = last.accepted.some((a) => a.student === student);
  return `step ${last.step} of ${last.lab}: ${accepted ? 'accepted' : 'suggested'}`;
}

function StudentRow({
  s,
  catchUps,
  act,
}: {
  s: ClassDashboardStudent;
  catchUps: ClassCatchUp[];
  act: (route: string, student: string) => void;
}) {
  const doctor = s.doctor
    ? s.doctor.ready
      ? 'ready'
      : `not ready: ${s.doctor.failing.join(', ')}`
    : 'no result';
  return (
    <tr className={s.stuck ? 'class-stuck' : undefined} data-student={s.key}>
      <td>
        {s.name}
        {s.id ? ` (${s.id})` : ''}
      </td>
      <td>{s.state}</td>
      <td>{s.lab ? `${s.lab} / ${s.step}` : '–'}</td>
      <td>{s.attempts}</td>
      <td>{s.hints}</td>
      <td>{minutesText(s)}</td>
      <td className="class-failing">
        {s.failing
          ? `${s.failing.description}: ${s.failing.message}${s.failing.streak > 1 ? ` (${s.failing.streak} runs in a row)` : ''}`
          : ''}
      </td>
      <td>{s.stuck ? <span className="badge badge-bad">stuck</span> : ''}</td>
      <td>{doctor}</td>
      <td data-catch-up-of={s.key}>{catchUpText(s.key, catchUps)}</td>
      <td>
        {s.state === 'pending' && (
          <button type="button" onClick={() => act('approve', s.key)}>
            Approve
          </button>
        )}
        {s.state !== 'revoked' && (
          <button type="button" onClick={() => act('revoke', s.key)}>
            Revoke
          </button>
        )}
      </td>
    </tr>
  );
}

export function ClassView({ token }: { token: string }) {
  const [board, setBoard] = useState<ClassDashboard>();
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState('');
  const [catchLab, setCatchLab] = useState('');
  const [catchStep, setCatchStep] = useState(1);
  const [catchWho, setCatchWho] = useState('');

  const refresh = useCallback(async () => {
    try {
      setBoard(await classCall<ClassDashboard>(token, 'GET', 'state'));
      setError(undefined);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [token]);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), CLASS_DASHBOARD_POLL_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  const download = (route: 'report' | 'report.csv') => {
    downloadReport(token, route).catch((e: Error) => setError(e.message));
  };

  const act = (route: string, body: unknown) => {
    classCall(token, 'POST', route, body).then(refresh, (e: Error) => setError(e.message));
  };

  return (
    <main className="layout layout-single class-view">
      <h1>Live class</h1>
      {error && <p className="badge badge-bad">{error}</p>}
      {board && (
        <>
          <Card title="The room">
            <p>
              {board.students.filter((s) => s.state === 'approved').length} students in the class,{' '}
              {board.students.filter((s) => s.state === 'pending').length} waiting for approval;{' '}
              {board.students.filter((s) => s.stuck).length} stuck. Readiness (doctor):{' '}
              {board.readiness.ready} ready, {board.readiness.notReady} not ready, {board.readiness.unknown}{' '}
              unknown.
              {board.class.ended ? ' The class has ended.' : ''}
            </p>
            <p className="class-totals">
              Events:{' '}
              {Object.entries(board.totals)
                .map(([k, n]) => `${k} ${n}`)
                .join(', ')}
            </p>
            <p className="class-export">
              The class report (as <code>microlab class report</code> makes it):{' '}
              <button type="button" onClick={() => download('report.csv')}>
                Download the CSV
              </button>{' '}
              <button type="button" onClick={() => download('report')}>
                Download the report (JSON)
              </button>
            </p>
            {board.commonFailures.length > 0 && (
              <ul className="class-common-failures">
                {board.commonFailures.map((f) => (
                  <li key={`${f.lab}/${f.step}`} data-step={`${f.lab}/${f.step}`}>
                    {f.lab}/{f.step}: check {f.check} ({f.description}) fails for {f.students} student
                    {f.students === 1 ? '' : 's'}
                  </li>
                ))}
              </ul>
            )}
            <table className="class-students">
              <thead>
                <tr>
                  <th>student</th>
                  <th>state</th>
                  <th>lab / step</th>
                  <th>checks</th>
                  <th>hints</th>
                  <th>minutes on step</th>
                  <th>failing</th>
                  <th />
                  <th>doctor</th>
                  <th>catch-up</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {board.students.map((s) => (
                  <StudentRow
                    key={s.key}
                    s={s}
                    catchUps={board.catchUps}
                    act={(route, student) => act(route, { student })}
                  />
                ))}
              </tbody>
            </table>
          </Card>
          {board.labs
            .filter((l) => l.started > 0)
            .map((l) => (
              <Card key={l.lab} title={`${l.title}: ${l.started} started, ${l.completed} completed`}>
                <ul className="class-measures">
                  {l.measures.map((m) => (
                    <ClassMeasure key={m.id} m={m} claims={l.claims} />
                  ))}
                </ul>
                <ul>
                  {l.claims.map((c, i) => (
                    <li key={i}>
                      “{c.text}”: supported by {c.supported}, not supported by {c.notSupported}, not measured
                      by {c.notMeasured}
                    </li>
                  ))}
                </ul>
              </Card>
            ))}
          <Card title="Labs and catching up">
            <ReleaseAndCatchUp
              board={board}
              lab={catchLab}
              step={catchStep}
              who={catchWho}
              onLab={setCatchLab}
              onStep={setCatchStep}
              onWho={setCatchWho}
              act={act}
            />
          </Card>
          <Card title="Instructor">
            <form
              onSubmit={(e) => {
                e.preventDefault();
                if (message.trim()) act('message', { text: message.trim() });
                setMessage('');
              }}
            >
              <input
                aria-label="Message to the room"
                value={message}
                onChange={(e) => setMessage(e.target.value)}
                maxLength={500}
              />
              <button type="submit">Send to the room</button>
              <button type="button" onClick={() => act('end', {})} disabled={Boolean(board.class.ended)}>
                End the class
              </button>
            </form>
            <ul>
              {board.messages.map((m) => (
                <li key={m.at}>{m.text}</li>
              ))}
            </ul>
          </Card>
        </>
      )}
    </main>
  );
}

/**
 * Release the next lab (in the labs' order; the class sees every lab until the first release)
 * and suggest "catch up to step N" of a lab to one student or the room.
 */
function ReleaseAndCatchUp({
  board,
  lab,
  step,
  who,
  onLab,
  onStep,
  onWho,
  act,
}: {
  board: ClassDashboard;
  lab: string;
  step: number;
  who: string;
  onLab: (lab: string) => void;
  onStep: (step: number) => void;
  onWho: (student: string) => void;
  act: (route: string, body: unknown) => void;
}) {
  const next = board.labs.find((l) => !board.released.includes(l.lab));
  const title = (id: string) => board.labs.find((l) => l.lab === id)?.title ?? id;
  const chosen = board.labs.find((l) => l.lab === lab) ?? board.labs[0];
  const steps = chosen?.steps ?? [];
  return (
    <>
      <p className="class-released">
        {board.released.length
          ? `Released: ${board.released.map(title).join(', ')}.`
          : 'No lab released yet: the students see every lab.'}{' '}
        <button type="button" disabled={!next} onClick={() => next && act('release', { lab: next.lab })}>
          {next ? `Release the next lab: ${next.title}` : 'Every lab is released'}
        </button>
      </p>
      <form
        className="class-catch-up-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (chosen) act('catch-up', { lab: chosen.lab, step, ...(who ? { student: who } : {}) });
        }}
      >
        <label className="field">
          <span className="field-label">Catch up: lab</span>
          <select
            value={chosen?.lab ?? ''}
            onChange={(e) => {
              onLab(e.currentTarget.value);
              onStep(1);
            }}
          >
            {board.labs.map((l) => (
              <option key={l.lab} value={l.lab}>
                {l.title}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">to step</span>
          <select value={step} onChange={(e) => onStep(Number(e.currentTarget.value))}>
            {steps.map((st, i) => (
              <option key={st.id} value={i + 1}>
                {i + 1}. {st.title}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">for</span>
          <select value={who} onChange={(e) => onWho(e.currentTarget.value)}>
            <option value="">the whole room</option>
            {board.students
              .filter((s) => s.state === 'approved')
              .map((s) => (
                <option key={s.key} value={s.key}>
                  {s.name}
                </option>
              ))}
          </select>
        </label>
        <button type="submit" disabled={!chosen}>
          Suggest catching up
        </button>
      </form>
      {board.catchUps.length > 0 && (
        <ul className="class-catch-ups">
          {board.catchUps.map((c) => (
            <li key={c.id}>
              {c.id}: step {c.step} of {title(c.lab)} to{' '}
              {c.student ? (board.students.find((s) => s.key === c.student)?.name ?? c.student) : 'the room'};
              accepted by{' '}
              {c.accepted.length
                ? c.accepted
                    .map((a) => board.students.find((s) => s.key === a.student)?.name ?? a.student)
                    .join(', ')
                : 'nobody yet'}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
