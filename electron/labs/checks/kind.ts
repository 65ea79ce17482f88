/**
 * What a check kind is: its fields (a zod shape), a one-line description and an evaluation
 * against real state, defined together (`checkKind`), so that a new kind is written in one
 * place (checks/deployment.ts, firewall.ts, answers.ts; checks/index.ts gathers them).
 */
import { z } from 'zod';
import type { LoadReport } from '../../api/contract';
import type { LabClient } from '../client';
import { id, seconds } from '../fields';
import type { Snapshot } from '../progress';
import type { StateReader } from '../state';

/** What every check may carry besides its kind and its own fields. */
export const common = {
  id: id('check id').optional(),
  description: z.string().max(300).optional().meta({ description: 'What it verifies (default: generated)' }),
  timeout: seconds
    .optional()
    .meta({ description: 'seconds; the check fails when its state is not read by then' }),
};

/** What a check reads its state through. */
export interface CheckContext {
  client: LabClient;
  state: StateReader;
  stepStart: Snapshot;
  labStart: Snapshot;
  /** The student's answers to this step's questions. */
  answers: Record<string, string>;
  /** Load runs recorded since the step started, newest last. */
  loads: LoadReport[];
  /** Absolute path of a policy reference (shipped, lab folder or workspace:NAME). */
  resolvePolicy(ref: string): string;
  workspaceFile(name: string): string;
  /** Runs a short load and records it. */
  runLoad(spec: { rate: number; duration: number; mix?: Record<string, number> }): Promise<LoadReport>;
}

/** A check's verdict and what it found, one line naming the fact. */
export interface Outcome {
  passed: boolean;
  message: string;
}
export const pass = (message: string): Outcome => ({ passed: true, message });
export const fail = (message: string): Outcome => ({ passed: false, message });

/** A check as validated: the common fields and the kind's own (defaults applied). */
export type CheckOf<T extends z.ZodRawShape> = z.output<z.ZodObject<typeof common & T>>;

/** One check kind: its fields, what it verifies, and how it is evaluated. */
export interface CheckKind<T extends z.ZodRawShape = z.ZodRawShape> {
  /** The kind's own fields (its `kind`, `id`, `description` and `timeout` are added). */
  fields: T;
  /** One line: what the check verifies (unless the lab gives its own `description`). */
  describe(check: CheckOf<T>): string;
  /** Reads the state and says what it found; may throw (runCheck turns that into a failure). */
  evaluate(check: CheckOf<T>, ctx: CheckContext): Promise<Outcome>;
}

/** Defines a check kind (its fields type `describe` and `evaluate`). */
export const checkKind = <T extends z.ZodRawShape>(kind: CheckKind<T>): CheckKind<T> => kind;

type Count = { min?: number; max?: number; equals?: number } | undefined;

function range(c: Count): string {
  if (!c) return '';
  if (c.equals !== undefined) return `exactly ${c.equals}`;
  if (c.min !== undefined && c.max !== undefined) return `${c.min} to ${c.max}`;
  if (c.min !== undefined) return `at least ${c.min}`;
  return c.max !== undefined ? `at most ${c.max}` : '';
}
/**
 * `range(c)` and the noun, singular when the one number it names is 1: "exactly 1 database",
 * "at least 1 database", "at most 2 workloads", "1 to 3 databases".
 */
export function counted(c: Count, noun: string): string {
  const one =
    c?.equals === 1 ||
    (c?.equals === undefined && c?.min === 1 && c.max === undefined) ||
    (c?.equals === undefined && c?.min === undefined && c?.max === 1);
  return `${range(c)} ${noun}${one ? '' : 's'}`;
}
export function inRange(n: number, c: Count): boolean {
  if (!c) return true;
  return (
    (c.equals === undefined || n === c.equals) &&
    (c.min === undefined || n >= c.min) &&
    (c.max === undefined || n <= c.max)
  );
}
/** An ISO time as the student's clock shows it: "14:03:07". */
export const clock = (iso: string) => new Date(iso).toTimeString().slice(0, 8);
/** An answer as compared: trimmed, lower case, runs of spaces as one. */
export const norm = (s: string) => s.trim().toLowerCase().replace(/\s+/g, ' ');
