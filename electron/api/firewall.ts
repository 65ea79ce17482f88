/**
 * The firewall's part of the API contract (issue 4): policy, flows, counters, probes.
 * Spread into `methods` and `Events` in contract.ts. Inputs are zod schemas; outputs are the
 * firewall modules' own types, imported as types only (nothing here runs Docker).
 */
import { z } from 'zod';
import type { DeploymentName } from '../topology/types';
import { MODES } from './vocabulary';
import type { EngineConnection } from '../engine/events';
import type { CountersReport } from '../firewall/counters';
import type { ApplyReport } from '../firewall/enforcer';
import type { Explanation, FlowVerdict } from '../firewall/evaluate';
import type { FlowEvent } from '../firewall/flows';
import type { Mode, Policy, PolicyIssue } from '../firewall/policy';
import type { StoredPolicy } from '../firewall/store';
import type { PolicyPreview, PreviewFlow } from '../firewall/preview';
import type { ProbeReport } from '../probe/matrix';
import type { BlastRadius } from '../probe/blast-radius';

export type {
  CountersReport,
  ApplyReport,
  Explanation,
  FlowVerdict,
  FlowEvent,
  Policy,
  PolicyIssue,
  PolicyPreview,
  PreviewFlow,
  ProbeReport,
  BlastRadius,
};

const MAX_TEXT = 256 * 1024;
const FilePath = z.string().trim().min(1, 'a file path is required').max(4096);
const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'a workload name');
const ModeInput = z.enum(MODES);

const PolicySource = z
  .object({
    file: FilePath.optional(),
    text: z.string().max(MAX_TEXT, `a policy may be at most ${MAX_TEXT} bytes`).optional(),
  })
  .strict()
  .refine(
    (s) => (s.file === undefined) !== (s.text === undefined),
    'give a policy file or its text, not both',
  );

const PolicyApply = z
  .object({
    file: FilePath.optional(),
    text: z.string().max(MAX_TEXT, `a policy may be at most ${MAX_TEXT} bytes`).optional(),
    /** One mode for every workload, instead of the policy's (and its segments'). */
    mode: ModeInput.optional(),
    /**
     * Keep the connections opened under the previous policy (a stateful firewall's habit).
     * By default the connections the new policy denies are cut.
     */
    keepEstablished: z.boolean().optional(),
  })
  .strict()
  .refine(
    (s) => (s.file === undefined) !== (s.text === undefined),
    'give a policy file or its text, not both',
  );

const PolicyExplain = z
  .object({
    src: Name,
    dst: Name,
    port: z.number().int().min(1).max(65535),
    protocol: z.enum(['tcp', 'udp']).optional(),
  })
  .strict();

const FlowsList = z
  .object({ since: z.iso.datetime().optional(), limit: z.number().int().min(1).max(100_000).optional() })
  .strict();
const FlowsFollow = z.object({ enabled: z.boolean() }).strict();
const ProbeRun = z.object({ timeoutSeconds: z.number().int().min(1).max(10).optional() }).strict();
const NoInput = z.object({}).strict();
const BlastRadiusInput = z
  .object({
    workload: Name,
    /** Seconds a denied probe waits before it counts as timed out (fractions allowed). */
    timeoutSeconds: z.number().min(0.2).max(10).optional(),
  })
  .strict();

export interface PolicyApplyResult {
  name?: string;
  file: string;
  mode?: Mode;
  keepEstablished?: boolean;
  report: ApplyReport;
}

export interface PolicyValidation {
  valid: boolean;
  issues: PolicyIssue[];
}

export interface PolicyShow {
  /** The policy in force and where it came from; absent when none was applied. */
  source?: StoredPolicy;
  policy?: Policy;
  workloads: { name: string; segments: string[]; mode: Mode; instances: number }[];
  /** What the evaluator predicts for every flow between the running workloads. */
  flows: FlowVerdict[];
}

/** A policy shipped in labs/policies, for the labs and the UI's picker. */
export interface ShippedPolicyInfo {
  /** Absolute path: what `policy:apply` takes as `file`. */
  file: string;
  /** The file name, e.g. microservices-segmented.yaml */
  name: string;
  /** The deployment it is written for, from its name. */
  deployment?: DeploymentName;
  /** The first line of its header comment. */
  title: string;
  /** The whole file, to read (and edit) before applying it. */
  text: string;
}

function method<I extends z.ZodType, O>(input: I) {
  return { input, output: undefined as unknown as O };
}

export const firewallMethods = {
  /** Validates a policy and puts it in force on every running workload; an invalid one changes nothing. */
  'policy:apply': method<typeof PolicyApply, PolicyApplyResult>(PolicyApply),
  /** Checks a policy without applying it: every issue with file, line and column. */
  'policy:validate': method<typeof PolicySource, PolicyValidation>(PolicySource),
  'policy:show': method<typeof NoInput, PolicyShow>(NoInput),
  /** Removes the policy in force: every table goes (the perimeter router lets everything pass). */
  'policy:clear': method<typeof NoInput, ApplyReport>(NoInput),
  /** The policies shipped in labs/policies. */
  'policy:list': method<typeof NoInput, ShippedPolicyInfo[]>(NoInput),
  /**
   * The expected matrix of a policy that is not applied: every flow between the running
   * workloads under it, beside the verdict in force. Changes nothing. Throws `policy-invalid`
   * (with every issue and its position) for a policy that does not validate.
   */
  'policy:evaluate': method<typeof PolicyApply, PolicyPreview>(PolicyApply),
  /** Why the policy in force gives a flow its verdict. */
  'policy:explain': method<typeof PolicyExplain, Explanation>(PolicyExplain),
  /** The flow log so far (one event per new connection, with the deciding rule). */
  'flows:list': method<typeof FlowsList, FlowEvent[]>(FlowsList),
  /** Starts or stops the `flows:event` stream. */
  'flows:follow': method<typeof FlowsFollow, { following: boolean }>(FlowsFollow),
  'firewall:counters': method<typeof NoInput, CountersReport>(NoInput),
  /** The reachability matrix: expected (evaluator) next to observed (probes). */
  'probe:run': method<typeof ProbeRun, ProbeReport>(ProbeRun),
  /**
   * If `workload` were compromised: every port of every other workload, expected (evaluator)
   * and observed (probes from inside its namespace), with the deciding rule, and the count
   * "reaches N of M workloads (K databases)". Behind a perimeter, same-segment flows count too.
   * Throws `unknown-workload` when no such workload runs.
   */
  'blast:radius': method<typeof BlastRadiusInput, BlastRadius>(BlastRadiusInput),
} as const;

export interface FirewallEvents {
  /** One new connection, while `flows:follow` is on. */
  'flows:event': FlowEvent;
  /** The enforcer reloaded tables by itself (workloads came or went). */
  'firewall:reconciled': ApplyReport;
  /**
   * The firewall's watcher lost its connection to the Docker engine, or has it again
   * (`restored`, with how long it was away in ms; it then checks every table again).
   */
  'engine:connection': EngineConnection;
}

export const firewallEventNames = ['flows:event', 'firewall:reconciled', 'engine:connection'] as const;
