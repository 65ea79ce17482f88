/**
 * The labs' measured figures (labs/guides/figures.json): what the labs benchmark
 * (`npm run bench -- labs-record`) saw when it walked every lab with "Show me" on one machine,
 * so the instructor's guide can say what to expect. Per lab: the set-up's seconds, each step's
 * machine seconds and each measure's values, one entry a run; and the machine they ran on. A
 * figure in the file comes from a run; a lab or measure the run did not reach is absent (the
 * guide says "not measured yet"). Runs on the same machine add up; `date` is the last run's.
 *
 *   {
 *     "machine": { "cpu": "AMD EPYC 7B13", "cpus": 2, "memoryGiB": 7.8, "arch": "x64",
 *                  "os": "linux 6.8.0", "engine": "Docker", "engineVersion": "28.1.1" },
 *     "date": "2026-12-07T18:30:00.000Z",
 *     "labs": { "monolith-flat": { "runs": 1, "setupSeconds": [9.1],
 *               "steps": { "find-the-keys": [4.2] }, "measures": { "blast-flat": [5] } } }
 *   }
 */
import { z } from 'zod';
import type { Lab } from './format';

const seconds = z
  .array(z.number().nonnegative().refine(Number.isFinite, 'a finite number of seconds'))
  .min(1);

export const FiguresSchema = z.strictObject({
  machine: z.strictObject({
    cpu: z.string().min(1).max(200),
    cpus: z.int().min(1).max(4096),
    memoryGiB: z.number().positive(),
    arch: z.string().min(1).max(40),
    os: z.string().min(1).max(200),
    engine: z.string().min(1).max(40),
    engineVersion: z.string().min(1).max(80),
  }),
  date: z.iso.datetime(),
  labs: z.record(
    z.string(),
    z.strictObject({
      runs: z.int().min(1),
      setupSeconds: seconds,
      /** By step id: the machine's seconds for "Show me" and Check, one a run. */
      steps: z.record(z.string(), seconds),
      /** By measure id: the value each run measured. */
      measures: z.record(z.string(), z.array(z.number().refine(Number.isFinite, 'a finite number')).min(1)),
    }),
  ),
});

export type LabFigures = z.output<typeof FiguresSchema>;
export type Machine = LabFigures['machine'];

/** One line naming the machine: "2 × AMD EPYC 7B13, 7.8 GiB, x64, linux 6.8.0, Docker 28.1.1". */
export function machineName(m: Machine): string {
  return `${m.cpus} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.arch}, ${m.os}, ${m.engine} ${m.engineVersion}`;
}

/** Median, smallest and largest of `values` (at least one), and how many. */
export function spread(values: number[]): { median: number; min: number; max: number; n: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

/**
 * Parses a figures file's JSON text and checks it against the labs: every lab, step and measure
 * id it names must exist there (a stale file, written before a lab changed). Throws an Error
 * naming the file (`where`) and each problem, with its path ("labs.monolith-flat.measures.x").
 */
export function parseFigures(text: string, labs: Lab[], where: string): LabFigures {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: not JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = FiguresSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `${where}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`,
    );
  const problems: string[] = [];
  const byId = new Map(labs.map((l) => [l.id, l]));
  for (const [labId, f] of Object.entries(parsed.data.labs)) {
    const lab = byId.get(labId);
    if (!lab) {
      problems.push(`labs.${labId}: no lab has this id`);
      continue;
    }
    const steps = new Set(lab.steps.map((s) => s.id));
    const measures = new Set(lab.steps.flatMap((s) => s.measure.map((m) => m.id)));
    for (const id of Object.keys(f.steps))
      if (!steps.has(id)) problems.push(`labs.${labId}.steps.${id}: the lab has no step "${id}"`);
    for (const id of Object.keys(f.measures))
      if (!measures.has(id)) problems.push(`labs.${labId}.measures.${id}: the lab measures no "${id}"`);
  }
  if (problems.length)
    throw new Error(
      `${where} is stale (recorded before the labs changed; record it again with npm run bench -- labs-record): ${problems.join('; ')}`,
    );
  return parsed.data;
}
