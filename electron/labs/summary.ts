/**
 * What the student (and the instructor) gets out of the progress: a lab's claims next to the
 * student's own numbers, the 2×2 table filled from every lab so far, the progress exported as
 * JSON with a CSV beside it, and one table of a class from many exported files.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type {
  AttackerFigures,
  ClassRow,
  LabApp,
  LabAttacker,
  LabNetwork,
  LabProgress,
  LabSummary,
  LabTable,
  Measurement,
  ProgressExport,
  SummaryClaim,
} from '../api/contract';
import { LAB_APPS, LAB_ATTACKERS, LAB_NETWORKS } from '../api/vocabulary';
import { readExports } from './class-files';
import type { Lab } from './format';
import type { ProgressFile } from './progress';
import { judge, parseRelation, verdictOf } from './relation';

/** A lab's measurements by id (the latest step's when two record one). */
export function measurementsOf(progress: LabProgress | undefined): Map<string, Measurement> {
  const all = new Map<string, Measurement>();
  for (const step of Object.values(progress?.steps ?? {}))
    for (const m of step.measurements) all.set(m.id, m);
  return all;
}

/**
 * Each claim of the lab with the student's numbers, its relations judged on them, its verdict
 * (supported / not supported / not measured) and, when it names one, the student's prediction.
 */
export function claimsOf(
  lab: Lab,
  progress: LabProgress | undefined,
  /** Every lab's progress: a relation may name another lab's measure as LAB.MEASURE. */
  all: Record<string, LabProgress> = {},
): SummaryClaim[] {
  const measured = measurementsOf(progress);
  const values = new Map([...measured].map(([id, m]) => [id, m.value]));
  for (const [id, other] of Object.entries(all))
    for (const [m, x] of measurementsOf(other)) values.set(`${id}.${m}`, x.value);
  return lab.claims.map((c) => {
    const measurements = c.measures.map((id) => measured.get(id)).filter((m): m is Measurement => !!m);
    const relations = c.holds.map((text) => {
      const r = judge(parseRelation(text), values);
      return {
        text: r.text,
        holds: r.holds,
        ...(r.left !== undefined ? { left: r.left, right: r.right! } : {}),
      };
    });
    const predicted = c.prediction
      ? lab.steps.find((s) => s.id === c.prediction!.step)?.predict.find((q) => q.id === c.prediction!.id)
      : undefined;
    const answer = c.prediction
      ? progress?.steps[c.prediction.step]?.predictions?.[c.prediction.id]?.answer
      : undefined;
    return {
      text: c.text,
      ...(c.article ? { article: c.article } : {}),
      measurements,
      relations,
      verdict: verdictOf(relations, measurements.length === c.measures.length),
      ...(predicted ? { prediction: { text: predicted.text, ...(answer ? { answer } : {}) } } : {}),
    };
  });
}

/** The latest figures of each attacker in each cell (app × network), from every lab's measurements. */
function attackerFigures(labs: Lab[], data: ProgressFile) {
  const figures = new Map<string, AttackerFigures & { at: string; when: Record<string, string> }>();
  for (const lab of labs)
    for (const step of lab.steps)
      for (const m of data.labs[lab.id]?.steps[step.id]?.measurements ?? []) {
        if (!m.attacker || !m.metric) continue;
        const key = `${m.app ?? lab.quadrant.app}/${m.network ?? lab.quadrant.network}/${m.attacker}`;
        const f = figures.get(key) ?? {
          workloads: null,
          databases: null,
          domains: null,
          lab: lab.id,
          step: step.id,
          at: '',
          when: {},
        };
        // Each figure is the latest of its kind; the cell names where the latest of all came from.
        if (m.at >= (f.when[m.metric] ?? '')) {
          f[m.metric] = m.value;
          f.when[m.metric] = m.at;
        }
        if (m.at >= f.at) Object.assign(f, { lab: lab.id, step: step.id, at: m.at });
        figures.set(key, f);
      }
  return (app: LabApp, network: LabNetwork) =>
    Object.fromEntries(
      LAB_ATTACKERS.map((a) => {
        const f = figures.get(`${app}/${network}/${a}`);
        if (!f) return [a, null];
        return [
          a,
          { workloads: f.workloads, databases: f.databases, domains: f.domains, lab: f.lab, step: f.step },
        ];
      }),
    ) as Record<LabAttacker, AttackerFigures | null>;
}

export function summarize(
  lab: Lab,
  progress: LabProgress | undefined,
  all: Record<string, LabProgress> = {},
): LabSummary {
  return {
    lab: lab.id,
    title: lab.title,
    quadrant: lab.quadrant,
    state: progress?.state ?? 'not-started',
    finish: lab.finish,
    claims: claimsOf(lab, progress, all),
    steps: lab.steps.map((s) => {
      const p = progress?.steps[s.id];
      return {
        id: s.id,
        title: s.title,
        outcome: p?.outcome ?? 'pending',
        attempts: p?.attempts ?? 0,
        hintsShown: p?.hintsShown ?? 0,
        ...(p?.seconds !== undefined ? { seconds: p.seconds } : {}),
      };
    }),
  };
}

/** Every cell of app × network, with the labs that sit there and their claims so far. */
export function table(labs: Lab[], data: ProgressFile): LabTable {
  const attackers = attackerFigures(labs, data);
  return {
    cells: LAB_APPS.flatMap((app) =>
      LAB_NETWORKS.map((network) => ({
        app,
        network,
        labs: labs
          .filter((l) => l.quadrant.app === app && l.quadrant.network === network)
          .map((l) => ({
            id: l.id,
            title: l.title,
            state: data.labs[l.id]?.state ?? 'not-started',
            claims: claimsOf(l, data.labs[l.id], data.labs),
          })),
        attackers: attackers(app, network),
      })),
    ),
  };
}

/**
 * One row per lab × step of one student's progress. The student is the name in the file, else
 * `fallback` (a class report passes the file's name): never the OS account.
 */
export function rowsOf(data: ProgressFile, fallback = 'unnamed'): ClassRow[] {
  const student = data.student?.name ?? fallback;
  const studentId = data.student?.id;
  return Object.values(data.labs).flatMap((lab) =>
    Object.entries(lab.steps).map(([step, p]) => ({
      student,
      ...(studentId ? { studentId } : {}),
      lab: lab.lab,
      step,
      outcome: p.outcome,
      attempts: p.attempts,
      hintsShown: p.hintsShown,
      ...(p.seconds !== undefined ? { seconds: p.seconds } : {}),
      measurements: Object.fromEntries(p.measurements.map((m) => [m.id, m.value])),
    })),
  );
}

/**
 * One CSV cell (RFC 4180 quoting). Text a spreadsheet would run as a formula (=, +, -, @ at
 * the start: a student's name is theirs to choose) is kept as text with a leading apostrophe;
 * numbers are written as they are.
 */
export const cell = (v: unknown) => {
  let s = v === undefined || v === null ? '' : String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One line per student × lab × step; measurements as `id=value` pairs in one column. */
export function csvOf(rows: ClassRow[]): string {
  const header = [
    'student',
    'student id',
    'lab',
    'step',
    'outcome',
    'attempts',
    'hints',
    'seconds',
    'measurements',
  ];
  return (
    [
      header.join(','),
      ...rows.map((r) =>
        [
          r.student,
          r.studentId,
          r.lab,
          r.step,
          r.outcome,
          r.attempts,
          r.hintsShown,
          r.seconds,
          Object.entries(r.measurements)
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
        ]
          .map(cell)
          .join(','),
      ),
    ].join('\n') + '\n'
  );
}

/** Writes `file` (JSON: the whole progress) and the CSV beside it. */
export async function exportProgress(data: ProgressFile, file: string): Promise<ProgressExport> {
  const json = path.resolve(file);
  const csv = json.replace(/\.json$/i, '') + '.csv';
  const shared: Partial<ProgressFile> = { ...data };
  delete shared.active;
  await writeFile(json, JSON.stringify({ ...shared, exportedAt: new Date().toISOString() }, null, 2));
  await writeFile(csv, csvOf(rowsOf(data, path.basename(json).replace(/\.json$/i, ''))));
  return { json, csv };
}

/**
 * Reads exported progress files into one table: a student is named by the name in the file
 * (set by the student), else by the file's name; never by the OS account. A file that is not a
 * progress export is refused (ApiError `bad-progress-file` naming it and what is wrong).
 */
export async function classRows(files: string[]): Promise<ClassRow[]> {
  return (await readExports(files)).flatMap((e) => rowsOf(e.data, e.fallbackName));
}
