/**
 * The lab format's building blocks: the zod schemas of the fields that actions, checks and
 * measures share (ids, workload names, policy references, the domain's enumerations). Each kind
 * of action, check and measure builds its schema from these (actions.ts, checks/, measures.ts);
 * format.ts assembles the lab file. The enumerations come from the API's vocabulary, declared
 * once by the layer that owns them.
 */
import { z } from 'zod';
import {
  DEPLOYMENTS,
  FOUND_FIELDS,
  LAB_ATTACKERS,
  LAB_NETWORKS,
  LAYOUTS,
  LOAD_SCENARIOS,
  MODES,
  VERDICTS,
} from '../api/vocabulary';

/** A lab's, step's, check's... id: lower-case letters, digits and -, at most 63. */
export const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A workload, rule or file name: letters, digits, _ . -, at most 63. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** An id; `what` names it in the error ("step id \"X\" is not an id (...)"). */
export const id = (what: string) =>
  z.string().regex(ID, {
    error: (issue) =>
      `${what} ${JSON.stringify(issue.input)} is not an id (lower-case letters, digits and -, at most 63)`,
  });
export const workload = z.string().regex(NAME, {
  error: (issue) => `${JSON.stringify(issue.input)} is not a workload name`,
});
export const policyRef = z.string().min(1).max(200).meta({
  description:
    'A policy file: a name in labs/policies (monolith-segmented.yaml), a file in the lab folder, or "workspace:NAME" for the student\'s own',
});
export const port = z.int().min(1).max(65535);
export const seconds = z.number().positive().max(600);
export const markdown = z.string().max(20_000);
export const mode = z.enum(MODES, { error: `mode is one of ${MODES.join(', ')}` });
export const deployment = z.enum(DEPLOYMENTS, { error: `deployment is ${DEPLOYMENTS.join(' or ')}` });
export const layout = z.enum(LAYOUTS, { error: `layout is ${LAYOUTS.join(' or ')}` });
export const verdict = z.enum(VERDICTS, {
  error: `verdict is ${VERDICTS.slice(0, -1).join(', ')} or ${VERDICTS.at(-1)}`,
});
/** The network column of the 2×2 an attacker's figure belongs to, when not the lab's own. */
export const cellNetwork = z.enum(LAB_NETWORKS).optional().meta({
  description:
    "the 2×2 column the figure belongs to (default: the lab's); a segmented lab's baseline on the flat network says flat",
});
export const attacker = z
  .enum(LAB_ATTACKERS, {
    error: `attacker is one of ${LAB_ATTACKERS.join(', ')}`,
  })
  .meta({
    description:
      "jumpbox: the stolen operator laptop; catalog-code: the workload that runs the catalog's code (the monolith's app, or the catalog service)",
  });
/**
 * A credential as found where a workload stands (its main process's environment, its user's
 * ~/.pgpass): the first one's `field`. Values differ per deployment (the database password is
 * random per deployment), so answers differ per student.
 */
export const found = z.strictObject({
  workload,
  field: z.enum(FOUND_FIELDS),
});
/** A command run in a workload's first replica: its output, trimmed. */
export const output = z.strictObject({
  workload,
  command: z.array(z.string().max(2000)).min(1).max(50),
});
/**
 * A reading of a policy's Kubernetes NetworkPolicy form (the export, made when checked): how
 * many workloads the policy the export writes for `ingressOf` lets in.
 */
export const exportReading = z.strictObject({
  policy: policyRef,
  deployment,
  ingressOf: workload,
});
/** Scenarios started per second, relative, by scenario (the load generator's). */
export const mix = z.partialRecord(z.enum(LOAD_SCENARIOS), z.int().min(0).max(1000));
/** Which start a comparison reads: the step's (default) or the lab's. */
export const since = z.enum(['step', 'lab']).default('step');
