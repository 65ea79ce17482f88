/**
 * The firewall's words, declared once: a workload's mode, a rule's action and a flow's
 * verdict. Plain values (no zod, no Node): the policy schema, the evaluator, the lab format,
 * the API and the UI all import them from here.
 */

/** off: nothing loaded; monitor: denials logged, never enforced; enforce: denials enforced. */
export const MODES = ['off', 'monitor', 'enforce'] as const;
export type Mode = (typeof MODES)[number];

/** What a rule does to a flow it matches: allow it, drop it (deny), or refuse it at once (reject). */
export const ACTIONS = ['allow', 'deny', 'reject'] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * What the policy in force does to a flow (evaluate.ts `verdictOf`): allowed, denied (dropped:
 * the caller times out), rejected (refused at once) or audit (a denial a monitoring side only
 * reports; the flow passes).
 */
export const VERDICTS = ['allowed', 'denied', 'rejected', 'audit'] as const;
export type Verdict = (typeof VERDICTS)[number];
