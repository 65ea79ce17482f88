/**
 * The student's progress, kept in one JSON file in the user's state directory (per project),
 * so it survives restarts of the app and is shared by the app and the CLI: per lab and step,
 * the outcome (passed by the student, solved with help), attempts, hints shown, time and the
 * measurements; and the active lab with the state each step started from (what reset restores).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DeploymentName, Layout, LabProgress, LoadReport, StepProgress } from '../api/contract';

/** The state a step started from: what `reset` brings back and what `unchanged` compares with. */
export interface Snapshot {
  at: string;
  deployment?: DeploymentName;
  layout?: Layout;
  /** Replicas per workload. */
  replicas: Record<string, number>;
  /** SHOP_VERSION per workload (the first replica's). */
  versions: Record<string, string>;
  containers: { workload: string; container: string; id?: string; startedAt?: string; image?: string }[];
  /** The policy in force (absent: none). */
  policy?: { text: string; file: string; mode?: 'off' | 'monitor' | 'enforce' };
  /** Packets per rule id. */
  counters: Record<string, number>;
}

export interface ActiveLab {
  lab: string;
  /** 1-based. */
  step: number;
  /** When the current step became current (the clock for its time). */
  since: string;
  /** The start state of each step reached, by step id, and of the lab. */
  snapshots: Record<string, Snapshot>;
  labStart?: Snapshot;
  /** Load runs finished while the lab was active (the `load` check and measures read them). */
  loads: (LoadReport & { endedAt: string })[];
}

export interface ProgressFile {
  version: 1;
  /** Who: the OS user, for the class summary (an instructor may rename the file instead). */
  student: string;
  active?: ActiveLab;
  labs: Record<string, LabProgress>;
}

export function emptyStep(): StepProgress {
  return { outcome: 'pending', attempts: 0, hintsShown: 0, measurements: [], answers: {} };
}

export class ProgressStore {
  constructor(
    readonly file: string,
    private readonly student: string,
  ) {}

  async read(): Promise<ProgressFile> {
    try {
      const data = JSON.parse(await readFile(this.file, 'utf8')) as ProgressFile;
      if (data.version === 1 && data.labs) return data;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
    }
    return { version: 1, student: this.student, labs: {} };
  }

  async write(data: ProgressFile): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const partial = `${this.file}.${process.pid}.partial`;
    await writeFile(partial, JSON.stringify(data, null, 2));
    await rename(partial, this.file);
  }

  /** Reads, changes and writes back, one change at a time in this process. */
  async update<T>(change: (data: ProgressFile) => T | Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const data = await this.read();
      const result = await change(data);
      await this.write(data);
      return result;
    });
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private queue: Promise<unknown> = Promise.resolve();
}

/** The lab's progress record, created when missing. */
export function labProgress(data: ProgressFile, lab: string): LabProgress {
  data.labs[lab] ??= { lab, state: 'not-started', steps: {} };
  return data.labs[lab];
}

export function stepProgress(data: ProgressFile, lab: string, step: string): StepProgress {
  const record = labProgress(data, lab);
  record.steps[step] ??= emptyStep();
  return record.steps[step];
}
