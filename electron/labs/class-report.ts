/**
 * A class's numbers as one result, from each student's exported progress (pure: the files are
 * read by class-files.ts). Every figure is computed per student first, the way the student's
 * own summary computes it (claimsOf, table), then gathered: a claim's verdict is the student's
 * own numbers judged against its relations, and the class's 2×2 is each student's 2×2 taken
 * cell by cell as medians.
 */
import type { ClassLabReport, ClassReport, LabProgress, Spread, Student } from '../api/contract';
import { LAB_ATTACKERS } from '../api/vocabulary';
import type { ReadExport } from './class-files';
import type { Lab } from './format';
import type { ProgressFile } from './progress';
import { measuresOf, parseRelation } from './relation';
import { studentLabel } from './student';
import { cell, claimsOf, measurementsOf, table } from './summary';

/** The middle of the sorted numbers (the mean of the two middle ones for an even count); null when none. */
export function median(values: number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function spreadOf(values: number[]): Spread {
  return {
    n: values.length,
    median: median(values),
    min: values.length ? Math.min(...values) : null,
    max: values.length ? Math.max(...values) : null,
  };
}

interface ClassStudent {
  name: string;
  id?: string;
  file: string;
  exportedAt?: string;
  named: boolean;
  data: ProgressFile;
}

/**
 * One entry per student. A named student (name and id) found in several files is one student:
 * the latest export counts (by its exportedAt; the later file when equal) and a note says which
 * was left out. A file without a name is a student of its own, named by the file.
 */
function studentsOf(exports: ReadExport[], notes: string[]): ClassStudent[] {
  const byKey = new Map<string, ClassStudent>();
  for (const e of exports) {
    const named: Student | undefined = e.data.student;
    const key = named ? `name:${named.name}\u0000${named.id ?? ''}` : `file:${e.file}`;
    const s: ClassStudent = {
      name: named?.name ?? e.fallbackName,
      ...(named?.id ? { id: named.id } : {}),
      file: e.file,
      ...(e.data.exportedAt ? { exportedAt: e.data.exportedAt } : {}),
      named: Boolean(named),
      data: e.data,
    };
    const before = byKey.get(key);
    if (before) {
      const keep = (before.exportedAt ?? '') > (s.exportedAt ?? '') ? before : s;
      const drop = keep === before ? s : before;
      notes.push(
        `${drop.file} and ${keep.file} are both ${named ? studentLabel(named) : 'this file'}: the later export (${keep.file}) counts`,
      );
      byKey.set(key, keep);
    } else byKey.set(key, s);
  }
  const unnamed = [...byKey.values()].filter((s) => !s.named).map((s) => s.file);
  if (unnamed.length)
    notes.push(
      `no student name in ${unnamed.join(', ')}: named by the file (students set theirs with \`microlab student set NAME\`)`,
    );
  return [...byKey.values()];
}

function labReport(lab: Lab, students: ClassStudent[]): ClassLabReport {
  const progress = (s: ClassStudent): LabProgress | undefined => s.data.labs[lab.id];
  const verdicts = students.map((s) => claimsOf(lab, progress(s), s.data.labs));
  const measuresBy = new Map(students.map((s) => [s, measurementsOf(progress(s))]));
  const own = new Set(lab.steps.flatMap((s) => s.measure.map((m) => m.id)));
  return {
    lab: lab.id,
    title: lab.title,
    quadrant: lab.quadrant,
    started: students.filter((s) => {
      const p = progress(s);
      return p && (p.state !== 'not-started' || Object.keys(p.steps).length > 0);
    }).length,
    completed: students.filter((s) => progress(s)?.state === 'completed').length,
    steps: lab.steps.map((step) => {
      const records = students.map((s) => progress(s)?.steps[step.id]).filter((p) => p !== undefined);
      const done = records.filter((p) => p.outcome !== 'pending');
      return {
        id: step.id,
        title: step.title,
        optional: step.optional,
        passed: records.filter((p) => p.outcome === 'passed').length,
        solved: records.filter((p) => p.outcome === 'solved').length,
        done: done.length,
        medianSeconds: median(done.flatMap((p) => (p.seconds !== undefined ? [p.seconds] : []))),
        hints: records.reduce((sum, p) => sum + p.hintsShown, 0),
        studentsWithHints: records.filter((p) => p.hintsShown > 0).length,
      };
    }),
    measures: lab.steps
      .flatMap((s) => s.measure)
      .map((m) => {
        const values = students.flatMap((s) => {
          const value = measuresBy.get(s)!.get(m.id)?.value;
          return value !== undefined ? [{ student: s.name, ...(s.id ? { id: s.id } : {}), value }] : [];
        });
        return {
          id: m.id,
          label: m.label,
          unit: m.unit,
          spread: spreadOf(values.map((v) => v.value)),
          values,
        };
      }),
    claims: lab.claims.map((c, i) => {
      const of = (v: string) => verdicts.filter((claims) => claims[i]!.verdict === v).length;
      return {
        text: c.text,
        ...(c.article ? { article: c.article } : {}),
        holds: c.holds,
        measures: [
          ...new Set([...c.measures, ...c.holds.flatMap((h) => measuresOf(parseRelation(h)))]),
        ].filter((id) => own.has(id)),
        supported: of('supported'),
        notSupported: of('not-supported'),
        notMeasured: of('not-measured'),
      };
    }),
  };
}

const METRICS = ['workloads', 'databases', 'domains'] as const;

/** The class's 2×2: each student's own table() (attackers' latest figures per cell), as medians. */
function classTable(labs: Lab[], students: ClassStudent[]): ClassReport['table'] {
  const tables = students.map((s) => table(labs, s.data));
  const cells = tables[0]?.cells ?? table(labs, { version: 1, labs: {} }).cells;
  return cells.map((c, i) => ({
    app: c.app,
    network: c.network,
    labs: c.labs.map((l) => l.id),
    attackers: Object.fromEntries(
      LAB_ATTACKERS.map((a) => {
        const figures = tables.map((t) => t.cells[i]!.attackers[a]).filter((f) => f !== null);
        if (!figures.length) return [a, null];
        return [
          a,
          Object.fromEntries(
            METRICS.map((metric) => [
              metric,
              spreadOf(figures.flatMap((f) => (f[metric] !== null ? [f[metric]] : []))),
            ]),
          ),
        ];
      }),
    ) as ClassReport['table'][number]['attackers'],
  }));
}

const VERDICT_WORD = {
  supported: 'supported',
  'not-supported': 'not supported',
  'not-measured': '',
} as const;

/**
 * The CSV: one row per student; columns `student`, `student id`, `file`, then per lab its state
 * (`LAB`), one column per measure (`LAB.MEASURE`: the student's number, empty when not
 * measured) and one per claim (`LAB claim N`: supported, not supported, or empty).
 */
function csvOf(labs: Lab[], students: ClassStudent[]): string {
  const header = ['student', 'student id', 'file'];
  for (const lab of labs) {
    header.push(lab.id);
    for (const m of lab.steps.flatMap((s) => s.measure)) header.push(`${lab.id}.${m.id}`);
    lab.claims.forEach((_, i) => header.push(`${lab.id} claim ${i + 1}`));
  }
  const rows = students.map((s) => {
    const row: unknown[] = [s.name, s.id, s.file];
    for (const lab of labs) {
      const p = s.data.labs[lab.id];
      row.push(p?.state ?? 'not-started');
      const measured = measurementsOf(p);
      for (const m of lab.steps.flatMap((st) => st.measure)) row.push(measured.get(m.id)?.value);
      for (const c of claimsOf(lab, p, s.data.labs)) row.push(VERDICT_WORD[c.verdict]);
    }
    return row.map(cell).join(',');
  });
  return [header.map(cell).join(','), ...rows].join('\n') + '\n';
}

/**
 * The report's per-lab figures alone (ClassReport's `labs`, in the labs' order), without its
 * table and CSV: what the live class's dashboard shows on each poll.
 */
export function classLabReports(labs: Lab[], exports: ReadExport[]): ClassLabReport[] {
  const students = studentsOf(exports, []);
  return [...labs].sort((a, b) => a.order - b.order).map((lab) => labReport(lab, students));
}

/**
 * The class report of `labs` (this MicroLab's lab files) over the students' exports. A lab an
 * export names that is not among `labs` is left out with a note.
 */
export function classReport(labs: Lab[], exports: ReadExport[]): ClassReport {
  const notes: string[] = [];
  const students = studentsOf(exports, notes);
  const known = new Set(labs.map((l) => l.id));
  for (const s of students)
    for (const id of Object.keys(s.data.labs))
      if (!known.has(id)) notes.push(`${s.file}: lab "${id}" is not one of these labs: left out`);
  const ordered = [...labs].sort((a, b) => a.order - b.order);
  return {
    students: students.map((s) => ({
      name: s.name,
      ...(s.id ? { id: s.id } : {}),
      file: s.file,
      ...(s.exportedAt ? { exportedAt: s.exportedAt } : {}),
      named: s.named,
    })),
    notes,
    labs: ordered.map((lab) => labReport(lab, students)),
    table: classTable(ordered, students),
    csv: csvOf(ordered, students),
  };
}
