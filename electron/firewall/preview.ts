/**
 * The expected matrix of a policy that is not in force yet: what it would decide for every
 * flow between the workloads running now, next to what the policy in force decides. Pure:
 * the candidate, the policy in force, the workloads and (behind a perimeter) the layout in;
 * the flows out. The policy editor shows it while the student types, before Apply.
 */
import type { PerimeterLayout } from '../topology/perimeter';
import type { PortSpec, Workload } from '../topology/workload';
import type { FlowVerdict, Verdict } from './evaluate';
import { evaluate, modeOf, segmentsOf, uniqueWorkloads } from './evaluate';
import { perimeterVerdicts } from './perimeter';
import type { Mode, Policy } from './policy';
import type { Layout } from '../topology/perimeter';

/**
 * One flow: src -> dst:port, what the candidate decides (its `decision.ruleId` is the deciding
 * rule, "default", or "_same-segment" behind a perimeter, where nothing decides), and what the
 * policy in force decides.
 */
export interface PreviewFlow extends FlowVerdict {
  /** The deciding rule's id (decision.ruleId, at the top for the labs' checks and messages). */
  ruleId: string;
  inForce: { verdict: Verdict; ruleId: string };
  /** The verdict differs from the one in force. */
  changed: boolean;
}

export interface PolicyPreview {
  /** Where the policy would be enforced: on every workload (flat) or at the perimeter router. */
  layout: Layout;
  /** The running workloads (one per name, sorted), their segments and mode under the candidate. */
  workloads: { name: string; segments: string[]; mode: Mode }[];
  flows: PreviewFlow[];
  /** How many flows change verdict if the candidate is applied. */
  changed: number;
}

function verdicts(
  policy: Policy,
  workloads: Workload[],
  perimeter: PerimeterLayout | undefined,
): FlowVerdict[] {
  if (perimeter)
    return perimeterVerdicts(policy, perimeter, workloads).map((f) => ({
      src: f.src,
      dst: f.dst,
      port: f.port,
      decision: f.decision,
      verdict: f.verdict,
    }));
  return evaluate(policy, workloads);
}

/**
 * Every flow between `workloads` (the running instances: replicas share a name, and replicas
 * of one workload are a flow of their own when it runs more than one) under `candidate`,
 * each beside its verdict under `inForce` (pass the "no policy" policy when none is).
 * `perimeter` set: only flows between segments meet the policy.
 */
export function previewPolicy(
  candidate: Policy,
  inForce: Policy,
  workloads: Workload[],
  perimeter?: PerimeterLayout,
): PolicyPreview {
  const next = verdicts(candidate, workloads, perimeter);
  const now = verdicts(inForce, workloads, perimeter);
  const key = (f: { src: string; dst: string; port: PortSpec }) =>
    `${f.src}>${f.dst}:${f.port.port}/${f.port.protocol}`;
  const before = new Map(now.map((f) => [key(f), f]));
  const flows = next.map((f): PreviewFlow => {
    const old = before.get(key(f));
    const inForceVerdict = old
      ? { verdict: old.verdict, ruleId: old.decision.ruleId }
      : { verdict: f.verdict, ruleId: '' };
    return {
      ...f,
      ruleId: f.decision.ruleId,
      inForce: inForceVerdict,
      changed: inForceVerdict.verdict !== f.verdict,
    };
  });
  return {
    layout: perimeter ? 'perimeter' : 'flat',
    workloads: uniqueWorkloads(workloads).map((w) => ({
      name: w.name,
      segments: segmentsOf(candidate, w),
      mode: modeOf(candidate, w) as Mode,
    })),
    flows,
    changed: flows.filter((f) => f.changed).length,
  };
}
