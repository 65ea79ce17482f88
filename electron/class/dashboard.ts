/**
 * The instructor's view of the room, pure: from the roster and the events each student sent,
 * who is where, who is stuck, the room's readiness, and the class's numbers. The numbers are the
 * class report's (class-report.ts): each student's progress is rebuilt from the events and read
 * as if exported, so the live dashboard and `class report` compute them one way.
 */
import type { ClassDashboard, ClassDashboardStudent } from '../api/class';
import type { LabProgress, StepProgress } from '../api/contract';
import type { ClassReport } from '../api/contract';
import type { ReadExport } from '../labs/class-files';
import { classLabReports, classReport } from '../labs/class-report';
import type { Lab } from '../labs/format';
import type { ProgressFile } from '../labs/progress';
import type { ClassEvent, Ledger } from './protocol';
import { zeroTotals } from './protocol';

/** A student as the roster keeps them: the dashboard's fields that come from the join. */
export type RosterEntry = Pick<
  ClassDashboardStudent,
  'key' | 'name' | 'id' | 'state' | 'address' | 'joinedAt' | 'lastSeen'
>;

/** The class as its host keeps it: what the dashboard shows of it. */
export type ClassInfo = ClassDashboard['class'];

/** A step not done after this many minutes counts as stuck. */
export const STUCK_MINUTES = 10;
/** So does a step whose last this many check runs failed the same way (same check, same message). */
export const STUCK_SAME_FAILURES = 3;

type Failing = NonNullable<ClassDashboardStudent['failing']>;

/**
 * The way the latest of a step's check runs failed and how many runs in a row, back from it,
 * failed that same way; undefined when the latest passed or none ran. A failed run sent
 * without its check (a MicroLab from before the field) counts as one unknown way.
 */
export function failureStreak(checks: ClassEvent[]): Failing | undefined {
  const runs = [...checks].sort((a, b) => (a.attempt ?? 0) - (b.attempt ?? 0));
  const last = runs.at(-1);
  if (!last || last.passed) return undefined;
  const way = (e: ClassEvent) => (e.failed ? `${e.failed.check}\n${e.failed.message}` : '');
  let streak = 0;
  for (let i = runs.length - 1; i >= 0 && !runs[i]!.passed && way(runs[i]!) === way(last); i--) streak++;
  const f = last.failed ?? {
    check: 'unknown',
    description: 'a check (not sent by this MicroLab)',
    message: '',
  };
  return { check: f.check, description: f.description, message: f.message, streak };
}

function stepOf(p: ProgressFile, lab: string, step: string): StepProgress {
  p.labs[lab] ??= { lab, state: 'in-progress', steps: {} };
  const record: LabProgress = p.labs[lab];
  record.steps[step] ??= { outcome: 'pending', attempts: 0, hintsShown: 0, measurements: [], answers: {} };
  return record.steps[step];
}

/** A student's progress as the events tell it (what an export of it would hold). */
export function progressFromEvents(events: ClassEvent[], labs: Lab[]): ProgressFile {
  const p: ProgressFile = { version: 1, labs: {} };
  for (const e of events) {
    if (!e.lab || !e.step) continue;
    const s = stepOf(p, e.lab, e.step);
    switch (e.kind) {
      case 'step-started':
        s.startedAt = e.at;
        break;
      case 'check':
        s.attempts = Math.max(s.attempts, e.attempt ?? 0);
        break;
      case 'hint':
        s.hintsShown = Math.max(s.hintsShown, e.hint ?? 0);
        break;
      case 'pass':
      case 'solve':
        s.outcome = e.kind === 'pass' ? 'passed' : 'solved';
        s.doneAt = e.at;
        if (e.seconds !== undefined) s.seconds = e.seconds;
        break;
      case 'measurement':
        if (e.measurement) s.measurements.push({ ...e.measurement, source: 'live class' });
        break;
      case 'prediction':
        if (e.prediction) (s.predictions ??= {})[e.prediction.id] = { answer: e.prediction.answer, at: e.at };
        break;
      default:
        break;
    }
  }
  for (const lab of labs) {
    const record = p.labs[lab.id];
    if (record && lab.steps.every((st) => (record.steps[st.id]?.outcome ?? 'pending') !== 'pending'))
      record.state = 'completed';
  }
  return p;
}

function studentView(entry: RosterEntry, events: ClassEvent[], now: number): ClassDashboardStudent {
  const totals = zeroTotals();
  for (const e of events) totals[e.kind]++;
  const started = events.filter((e) => e.kind === 'step-started');
  const last = started.at(-1);
  const onStep = events.filter((e) => last && e.lab === last.lab && e.step === last.step);
  const done = onStep.some((e) => e.kind === 'pass' || e.kind === 'solve');
  const attempts = onStep.filter((e) => e.kind === 'check').length;
  const failing = done ? undefined : failureStreak(onStep.filter((e) => e.kind === 'check'));
  const minutes = last && !done ? Math.max(0, Math.floor((now - Date.parse(last.at)) / 60_000)) : null;
  const doctor = events.filter((e) => e.kind === 'doctor').at(-1);
  return {
    key: entry.key,
    name: entry.name,
    ...(entry.id ? { id: entry.id } : {}),
    state: entry.state,
    address: entry.address,
    joinedAt: entry.joinedAt,
    ...(entry.lastSeen ? { lastSeen: entry.lastSeen } : {}),
    ...(last ? { lab: last.lab, step: last.step } : {}),
    attempts,
    hints: onStep.filter((e) => e.kind === 'hint').length,
    minutesOnStep: minutes,
    ...(failing ? { failing } : {}),
    stuck:
      !done &&
      last !== undefined &&
      ((minutes ?? 0) >= STUCK_MINUTES || (failing?.streak ?? 0) >= STUCK_SAME_FAILURES),
    ...(doctor?.doctor ? { doctor: { ...doctor.doctor, at: doctor.at } } : {}),
    totals,
  };
}

/**
 * Per lab and step, the check the most students on it fail now (the latest run on their current
 * step failed on it), with how many: the steps with the most such students first, then by name.
 */
export function commonFailures(students: ClassDashboardStudent[]): ClassDashboard['commonFailures'] {
  const bySteps = new Map<string, Map<string, { description: string; students: number }>>();
  for (const s of students) {
    if (!s.lab || !s.step || !s.failing) continue;
    const key = `${s.lab}\n${s.step}`;
    let checks = bySteps.get(key);
    if (!checks) bySteps.set(key, (checks = new Map()));
    const c = checks.get(s.failing.check) ?? { description: s.failing.description, students: 0 };
    c.students++;
    checks.set(s.failing.check, c);
  }
  const lines: ClassDashboard['commonFailures'] = [];
  for (const [key, checks] of bySteps) {
    const [lab, step] = key.split('\n') as [string, string];
    const [check, top] = [...checks].sort(
      (a, b) => b[1].students - a[1].students || a[0].localeCompare(b[0]),
    )[0]!;
    lines.push({ lab, step, check, description: top.description, students: top.students });
  }
  return lines.sort(
    (a, b) => b.students - a.students || a.lab.localeCompare(b.lab) || a.step.localeCompare(b.step),
  );
}

/**
 * Each student with events as if they had exported their progress (`file` their key): what
 * `class report` reads. Two students of one name are two students: the host's key stands in
 * for a missing id.
 */
export function exportsOf(roster: RosterEntry[], ledger: Ledger, labs: Lab[]): ReadExport[] {
  return roster
    .filter((r) => ledger.events(r.key).length > 0)
    .map((r) => ({
      file: r.key,
      fallbackName: r.key,
      data: {
        ...progressFromEvents(ledger.events(r.key), labs),
        student: { name: r.name, id: r.id ?? r.key },
      },
    }));
}

/**
 * The dashboard's export: the class report (ClassReport, with its 2×2 and CSV) of the students
 * as the host's ledger has them, computed as `microlab class report` computes it from the
 * students' exported files.
 */
export function classReportOf(roster: RosterEntry[], ledger: Ledger, labs: Lab[]): ClassReport {
  return classReport(labs, exportsOf(roster, ledger, labs));
}

/**
 * The dashboard at `now` (ms since the epoch). `labs` are this MicroLab's lab files: a lab a
 * student sent that is not among them shows in the totals, not in the labs' figures.
 */
export function dashboardOf(
  info: ClassInfo,
  roster: RosterEntry[],
  ledger: Ledger,
  labs: Lab[],
  messages: { at: string; text: string }[],
  now: number,
): Omit<ClassDashboard, 'released' | 'catchUps'> {
  const students = roster.map((r) => studentView(r, ledger.events(r.key), now));
  // The class report's per-lab figures only: its 2×2 table and CSV were most of each poll's time.
  const report = { labs: classLabReports(labs, exportsOf(roster, ledger, labs)) };
  const doctors = students.map((s) => s.doctor);
  return {
    class: info,
    students,
    totals: ledger.totals(),
    readiness: {
      ready: doctors.filter((d) => d?.ready === true).length,
      notReady: doctors.filter((d) => d?.ready === false).length,
      unknown: doctors.filter((d) => d === undefined).length,
    },
    commonFailures: commonFailures(students),
    labs: report.labs,
    messages,
  };
}
