/**
 * A step's checks: each reads real state through the API (deployment status, the policy in
 * force, probes from inside workloads' namespaces, counters, the flow log, load reports, the
 * student's workspace and answers) and says what it found, naming the fact. A check that cannot
 * read its state, or does not read it within its timeout, fails and says so: never a pass by
 * default.
 *
 * Each kind is defined once, its fields, description and evaluation together (kind.ts
 * `checkKind`), in the file of its theme; `CHECKS` gathers them, and the lab format's
 * `CheckSchema` is built from it. A new kind: one entry in one of those files, and its name in
 * the API's LAB_CHECK_KINDS (the compiler asks for both).
 */
import { z } from 'zod';
import type { CheckResult } from '../../api/contract';
import { LAB_CHECK_KINDS } from '../../api/vocabulary';
import type { LabCheckKind } from '../../api/vocabulary';
import { answerChecks } from './answers';
import { deploymentChecks } from './deployment';
import { firewallChecks } from './firewall';
import { common } from './kind';
import type { CheckContext, CheckKind, CheckOf, Outcome } from './kind';
import { fail } from './kind';

export type { CheckContext } from './kind';

export const DEFAULT_CHECK_TIMEOUT_S = 20;

/** Every check kind of the lab format, by name. */
export const CHECKS = {
  ...deploymentChecks,
  ...firewallChecks,
  ...answerChecks,
} satisfies Record<Exclude<LabCheckKind, 'predict'>, { fields: z.ZodRawShape }>;
type Checks = typeof CHECKS;
export type CheckKindName = keyof Checks;
/** In the API's order (LAB_CHECK_KINDS): the order of the JSON Schema and of the error's list. */
const KIND_NAMES = LAB_CHECK_KINDS.filter((k): k is CheckKindName => k in CHECKS);

/** A check as a lab file gives it, validated: `{ kind, id?, description?, timeout?, ...its fields }`. */
export type LabCheck = {
  [K in CheckKindName]: { kind: K } & CheckOf<Checks[K] extends CheckKind<infer T> ? T : never>;
}[CheckKindName];

/** The schema of one check: its kind, the common fields and its own. */
const schemaOf = (kind: CheckKindName) =>
  z.strictObject({ kind: z.literal(kind), ...common, ...(CHECKS[kind] as CheckKind).fields });

/** Any check of the lab format, told apart by `kind`. */
export const CheckSchema = z.discriminatedUnion(
  'kind',
  KIND_NAMES.map(schemaOf) as [ReturnType<typeof schemaOf>, ...ReturnType<typeof schemaOf>[]],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? `unknown check kind ${JSON.stringify((issue.input as { kind?: unknown } | undefined)?.kind)}: one of ${KIND_NAMES.join(', ')}`
        : undefined,
  },
) as unknown as z.ZodType<LabCheck>;

const definition = (check: LabCheck) =>
  CHECKS[check.kind] as unknown as CheckKind<z.ZodRawShape> & {
    describe(check: LabCheck): string;
    evaluate(check: LabCheck, ctx: CheckContext): Promise<Outcome>;
  };

/** A one-line description of what a check verifies (unless the lab gives its own). */
export function describeCheck(check: LabCheck): string {
  return check.description || definition(check).describe(check);
}

/** Runs one check with its timeout; never throws. */
export async function runCheck(check: LabCheck, index: number, ctx: CheckContext): Promise<CheckResult> {
  const started = Date.now();
  const timeout = (check.timeout ?? DEFAULT_CHECK_TIMEOUT_S) * 1000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    definition(check)
      .evaluate(check, ctx)
      .catch((err: Error): Outcome => fail(`cannot read the state this check needs: ${err.message}`)),
    new Promise<Outcome>((resolve) => {
      timer = setTimeout(
        () =>
          resolve(fail(`the state was not read within ${timeout / 1000} s (is the engine busy or gone?)`)),
        timeout,
      );
    }),
  ]);
  clearTimeout(timer);
  return {
    id: check.id ?? `${check.kind}-${index + 1}`,
    kind: check.kind,
    description: describeCheck(check),
    passed: outcome.passed,
    message: outcome.message,
    durationMs: Date.now() - started,
  };
}
