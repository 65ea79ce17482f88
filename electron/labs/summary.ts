/**
 * What the student (and the instructor) gets out of the progress: a lab's claims next to the
 * student's own numbers, the 2×2 table filled from every lab so far, the progress exported as
 * JSON with a CSV beside it, and one table of a class from many exported files.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type {
  ClassRow,
  LabProgress,
  LabSummary,
  LabTable,
  Measurement,
  ProgressExport,
  SummaryClaim,
} from '../api/contract';
import { LAB_APPS, LAB_NETWORKS } from '../api/labs';
import { ApiError } from '../errors';
import type { Lab } from './format';
import type { ProgressFile } from './progress';

function measurementsOf(progress: LabProgress | undefined): Map<string, Measurement> {
  const all = new Map<string, Measurement>();
  for (const step of Object.values(progress?.steps ?? {}))
    for (const m of step.measurements) all.set(m.id, m);
  return all;
}

export function claimsOf(lab: Lab, progress: LabProgress | undefined): SummaryClaim[] {
  const measured = measurementsOf(progress);
  return lab.claims.map((c) => {
    const measurements = c.measures.map((id) => measured.get(id)).filter((m): m is Measurement => !!m);
    return {
      text: c.text,
      measurements,
      backed: measurements.length === c.measures.length && c.measures.length > 0,
    };
  });
}

export function summarize(lab: Lab, progress: LabProgress | undefined): LabSummary {
  return {
    lab: lab.id,
    title: lab.title,
    quadrant: lab.quadrant,
    state: progress?.state ?? 'not-started',
    finish: lab.finish,
    claims: claimsOf(lab, progress),
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
            claims: claimsOf(l, data.labs[l.id]),
          })),
      })),
    ),
  };
}

export function rowsOf(data: ProgressFile, student = data.student): ClassRow[] {
  return Object.values(data.labs).flatMap((lab) =>
    Object.entries(lab.steps).map(([step, p]) => ({
      student,
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

const cell = (v: unknown) => {
  const s = v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One line per student × lab × step; measurements as `id=value` pairs in one column. */
export function csvOf(rows: ClassRow[]): string {
  const header = ['student', 'lab', 'step', 'outcome', 'attempts', 'hints', 'seconds', 'measurements'];
  return (
    [
      header.join(','),
      ...rows.map((r) =>
        [
          r.student,
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
  await writeFile(csv, csvOf(rowsOf(data)));
  return { json, csv };
}

/** Reads exported progress files into one table; a student is named by the file's `student`, else its name. */
export async function classRows(files: string[]): Promise<ClassRow[]> {
  const rows: ClassRow[] = [];
  for (const file of files) {
    let data: ProgressFile;
    try {
      data = JSON.parse(await readFile(file, 'utf8')) as ProgressFile;
    } catch (err) {
      throw new ApiError('bad-progress-file', `${file}: ${(err as Error).message}`);
    }
    if (!data || typeof data !== 'object' || !data.labs)
      throw new ApiError('bad-progress-file', `${file} is not a progress export (no "labs")`);
    rows.push(...rowsOf(data, data.student || path.basename(file, path.extname(file))));
  }
  return rows;
}
