/**
 * The files of a class: exported progress read and checked (one reader for `class summary` and
 * `class report`), and a class report written. Exports from before students named themselves
 * (their `student` is the OS user) are read too: the file's name then names the student.
 */
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ClassReport } from '../api/contract';
import { LAB_APPS, LAB_ATTACKERS, LAB_NETWORKS } from '../api/vocabulary';
import { ApiError } from '../errors';
import type { ProgressFile } from './progress';
import { withStudent } from './progress';

/** An export is a few hundred KiB at most; a bigger file is something else (an image bundle). */
export const MAX_EXPORT_BYTES = 16 * 1024 * 1024;

const text = z.string().max(10_000);
const MeasurementSchema = z.looseObject({
  id: z.string().min(1).max(200),
  label: text.default(''),
  unit: text.default(''),
  value: z.number().refine(Number.isFinite, 'a measurement is a finite number'),
  source: text.default(''),
  at: z.string().max(100),
  attacker: z.enum(LAB_ATTACKERS).optional(),
  metric: z.enum(['workloads', 'databases', 'domains']).optional(),
  app: z.enum(LAB_APPS).optional(),
  network: z.enum(LAB_NETWORKS).optional(),
});
const count = z.int().min(0);
const StepSchema = z.looseObject({
  outcome: z.enum(['pending', 'passed', 'solved']),
  attempts: count,
  hintsShown: count,
  startedAt: z.string().max(100).optional(),
  doneAt: z.string().max(100).optional(),
  seconds: z.number().min(0).refine(Number.isFinite, 'seconds is a finite number').optional(),
  measurements: z.array(MeasurementSchema).default([]),
  answers: z.record(z.string(), text).default({}),
  predictions: z.record(z.string(), z.looseObject({ answer: text, at: z.string().max(100) })).optional(),
  explanations: z.record(z.string(), text).optional(),
});
const LabSchema = z.looseObject({
  lab: z.string().min(1).max(100),
  state: z.enum(['not-started', 'in-progress', 'completed']),
  startedAt: z.string().max(100).optional(),
  completedAt: z.string().max(100).optional(),
  steps: z.record(z.string(), StepSchema),
});
/** An exported progress file (`lab progress export`): what a class report needs of it. */
const ExportSchema = z.looseObject({
  version: z.literal(1, 'version must be 1 (a MicroLab progress export)'),
  student: z
    .union([
      z.string(),
      z.looseObject({ name: z.string().trim().min(1).max(100), id: z.string().max(64).optional() }),
    ])
    .optional(),
  account: z.string().max(200).optional(),
  labs: z.record(z.string(), LabSchema),
  exportedAt: z.string().max(100).optional(),
});

export interface ReadExport {
  /** The path as given. */
  file: string;
  data: ProgressFile & { exportedAt?: string };
  /** The name a student without one goes by: the file's name without its folder and extension. */
  fallbackName: string;
}

function refuse(file: string, what: string): never {
  throw new ApiError(
    'bad-progress-file',
    `${file}: ${what}`,
    'Pass the JSON files `microlab lab progress export FILE` wrote (one per student); leave this one out or export it again.',
  );
}

/** "labs.monolith-flat.steps.keys.seconds: expected number, received string" (at most 5). */
function issuesOf(error: z.ZodError): string {
  const lines = error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`);
  if (error.issues.length > 5) lines.push(`and ${error.issues.length - 5} more`);
  return `not a progress export: ${lines.join('; ')}`;
}

/**
 * Reads and checks each exported progress file, in order. Throws ApiError `bad-progress-file`
 * on the first that cannot be read, is too big, is not JSON or not an export, naming the file
 * and what is wrong (the path and the problem of up to five fields).
 */
export async function readExports(files: string[]): Promise<ReadExport[]> {
  const read: ReadExport[] = [];
  for (const file of files) {
    let raw: string;
    try {
      const info = await stat(file);
      if (!info.isFile()) refuse(file, 'not a file');
      if (info.size > MAX_EXPORT_BYTES)
        refuse(file, `${info.size} bytes: too big for a progress export (at most ${MAX_EXPORT_BYTES})`);
      raw = await readFile(file, 'utf8');
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      refuse(file, code === 'ENOENT' ? 'no such file' : `cannot be read: ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      refuse(file, `not JSON: ${(err as Error).message}`);
    }
    const parsed = ExportSchema.safeParse(json);
    if (!parsed.success) refuse(file, issuesOf(parsed.error));
    for (const [key, lab] of Object.entries(parsed.data.labs))
      if (lab.lab !== key) refuse(file, `labs.${key}: names lab "${lab.lab}", not "${key}"`);
    read.push({
      file,
      data: withStudent(parsed.data as unknown as ProgressFile) as ProgressFile & { exportedAt?: string },
      fallbackName: path.basename(file).replace(/\.[^.]*$/, '') || file,
    });
  }
  return read;
}

/** Writes `text` to `file` whole or not at all (a partial file renamed into place). */
async function writeWhole(file: string, text: string): Promise<void> {
  const partial = `${file}.${process.pid}.partial`;
  const handle = await open(partial, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(partial, file);
  } catch (err) {
    await unlink(partial).catch(() => undefined);
    throw err;
  }
}

/**
 * Writes DIR/class-report.json (the report without its CSV) and DIR/class-report.csv, creating
 * DIR. Each file is whole or absent; returns their absolute paths.
 */
export async function writeClassReport(
  report: ClassReport,
  dir: string,
): Promise<{ json: string; csv: string }> {
  const folder = path.resolve(dir);
  await mkdir(folder, { recursive: true });
  const json = path.join(folder, 'class-report.json');
  const csv = path.join(folder, 'class-report.csv');
  const { csv: table, ...rest } = report;
  delete rest.written;
  await writeWhole(csv, table);
  await writeWhole(json, JSON.stringify(rest, null, 2) + '\n');
  return { json, csv };
}
