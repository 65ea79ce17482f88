/**
 * The student's progress, kept in one JSON file in the user's state directory (per project),
 * so it survives restarts of the app and is shared by the app and the CLI (ProgressStore: changes
 * under a lock across processes, durable writes): per lab and step,
 * the outcome (passed by the student, solved with help), attempts, hints shown, time and the
 * measurements; and the active lab with the state each step started from (what reset restores).
 */
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { lock } from 'proper-lockfile';
import { ApiError } from '../errors';
import type {
  CheckFailure,
  DeploymentName,
  Layout,
  LabProgress,
  LoadReport,
  StepProgress,
  Student,
} from '../api/contract';
import type { Mode } from '../api/vocabulary';

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
  policy?: { text: string; file: string; mode?: Mode };
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
  /**
   * Who: the name (and id) the student set (`microlab student set`, the first screen); absent
   * until set. Files written before names existed carried the OS user here as a string: read()
   * moves it to `account`.
   */
  student?: Student;
  /** The operating system's user name, for the record only: it tells no one apart. */
  account?: string;
  active?: ActiveLab;
  labs: Record<string, LabProgress>;
}

export function emptyStep(): StepProgress {
  return { outcome: 'pending', attempts: 0, hintsShown: 0, measurements: [], answers: {} };
}

/** How long a lock may go without its holder's sign of life before another process takes it, ms. */
export const PROGRESS_LOCK_STALE_MS = 10_000;

export interface ProgressStoreOptions {
  /** A lock whose holder has not touched it for this long is taken over (its holder died), ms. */
  staleMs?: number;
}

/**
 * The progress file, shared by every MicroLab process of the user (the app, `microlab web`,
 * any number of CLI commands). A change is read, applied and written under a lock held across
 * processes (proper-lockfile: a `progress.json.lock` directory, made atomically, its time
 * refreshed while held; one left by a process that died is taken over once stale), so two
 * processes that change it at once both keep their change. Every write is durable (written to
 * a file of its own, synced, renamed over the old one, the directory synced): a reader sees the
 * old file or the new one, never half of one, also after a crash.
 */
export class ProgressStore {
  private readonly staleMs: number;

  constructor(
    readonly file: string,
    /** The OS user name, recorded as `account` in a new file. */
    private readonly account: string,
    options: ProgressStoreOptions = {},
  ) {
    this.staleMs = Math.max(2000, options.staleMs ?? PROGRESS_LOCK_STALE_MS);
  }

  /**
   * The progress as the file holds it; empty when there is none. A file that is not progress
   * (not JSON, another version) is set aside as `progress.json.unreadable-<time>` rather
   * than overwritten by the next change. Throws the file system's error otherwise.
   */
  async read(): Promise<ProgressFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.empty();
      throw err;
    }
    try {
      const data = JSON.parse(text) as ProgressFile;
      if (data?.version === 1 && data.labs) return withStudent(data);
    } catch {
      // below
    }
    await rename(this.file, `${this.file}.unreadable-${Date.now()}`).catch(() => undefined);
    return this.empty();
  }

  /** Writes the whole file, durably (see the class). Call under the lock: `update` does. */
  async write(data: ProgressFile): Promise<void> {
    const dir = path.dirname(this.file);
    await mkdir(dir, { recursive: true });
    const partial = `${this.file}.${process.pid}.${++writes}.partial`;
    const handle = await open(partial, 'w');
    try {
      await handle.writeFile(JSON.stringify(data, null, 2));
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(partial, this.file);
    } catch (err) {
      await unlink(partial).catch(() => undefined);
      throw err;
    }
    // The rename itself is durable once the directory is synced (not possible on Windows).
    const folder = await open(dir, 'r').catch(() => undefined);
    if (folder) {
      await folder.sync().catch(() => undefined);
      await folder.close();
    }
  }

  /**
   * Reads, changes and writes back under the lock: one change at a time in this process and
   * across processes. Throws ApiError `progress-lock` when the lock cannot be had (another
   * process holds it and keeps it alive for minutes), or when it was taken over while this
   * change held it (the change is then not written).
   */
  async update<T>(change: (data: ProgressFile) => T | Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      let compromised: Error | undefined;
      await mkdir(path.dirname(this.file), { recursive: true });
      const release = await lock(this.file, {
        realpath: false,
        stale: this.staleMs,
        update: this.staleMs / 4,
        retries: { retries: 1000, minTimeout: 5, maxTimeout: 250, factor: 1.3, randomize: true },
        onCompromised: (err) => (compromised = err),
      }).catch((err: Error) => {
        throw new ApiError(
          'progress-lock',
          `the progress file ${this.file} stays locked by another MicroLab process: ${err.message}`,
          'Close other MicroLab windows and commands, or remove the .lock folder beside the file if none runs.',
        );
      });
      try {
        const data = await this.read();
        const result = await change(data);
        if (compromised)
          throw new ApiError(
            'progress-lock',
            `another process took over the lock of ${this.file} while this change was made: it was not written`,
          );
        await this.write(data);
        return result;
      } finally {
        await release().catch(() => undefined);
      }
    });
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private empty(): ProgressFile {
    return { version: 1, account: this.account, labs: {} };
  }

  private queue: Promise<unknown> = Promise.resolve();
}

/**
 * The file's `student` as a Student, or absent: a string there (files from before students
 * named themselves) was the OS user and becomes `account`; anything else that is not a name is
 * dropped.
 */
export function withStudent(data: ProgressFile): ProgressFile {
  const raw = (data as { student?: unknown }).student;
  if (typeof raw === 'string') {
    data.account ??= raw;
    delete data.student;
  } else if (raw !== undefined) {
    const s = raw as Partial<Student> | null;
    if (!s || typeof s.name !== 'string' || !s.name.trim()) delete data.student;
    else data.student = { name: s.name, ...(typeof s.id === 'string' && s.id ? { id: s.id } : {}) };
  }
  return data;
}

/** Partial files written by this process (their names must not meet). */
let writes = 0;

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

/** Failed check runs a step keeps (the latest). */
export const MAX_FAILURES = 20;
/** Characters kept of a failure's check id, and of its description and message. */
export const FAILURE_ID_CHARS = 100;
export const FAILURE_TEXT_CHARS = 200;

function clip(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** What stands for one of the student's answers in a failure's message (answers are never sent). */
export const ANSWER_IN_MESSAGE = '"(your answer)"';

/**
 * Records how check run `attempt` on `step` failed: the first of `results` that did not pass,
 * its id, description and message cut to their bounds (one line each), each of the step's
 * answers quoted in the message (`"shop" is not the answer...`) replaced by ANSWER_IN_MESSAGE,
 * so that the class is never sent an answer and two wrong answers fail the same way; the step
 * keeps the latest MAX_FAILURES. Does nothing when every result passed.
 */
export function recordFailure(
  step: StepProgress,
  attempt: number,
  results: { id: string; description: string; passed: boolean; message: string }[],
): void {
  const first = results.find((r) => !r.passed);
  if (!first) return;
  let message = first.message;
  for (const answer of Object.values(step.answers ?? {}))
    if (answer) message = message.split(`"${answer}"`).join(ANSWER_IN_MESSAGE);
  const failure: CheckFailure = {
    attempt,
    check: clip(first.id, FAILURE_ID_CHARS),
    description: clip(first.description, FAILURE_TEXT_CHARS),
    message: clip(message, FAILURE_TEXT_CHARS),
  };
  step.failures = [...(step.failures ?? []).filter((f) => f.attempt !== attempt), failure].slice(
    -MAX_FAILURES,
  );
}
