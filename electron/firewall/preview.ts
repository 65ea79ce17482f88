/**
 * The expected matrix of a policy that is not in force yet: what it would decide for every
 * flow between the workloads running now, next to what the policy in force decides. Pure:
 * the candidate, the policy in force, the workloads and (behind a perimeter) the layout in;
 * the flows out. The policy editor shows it while the student types, before Apply.
 */
import type { PerimeterLayout } from '../topology/perimeter';
import type { PortSpec, Workload } from '../topology/workload';
import type { Verdict } from './evaluate';
import { evaluate } from './evaluate';
import { perimeterVerdicts } from './perimeter';
import type { Policy } from './policy';

/** One flow: src -> dst:port, what the candidate decides, and what the policy in force decides. */
export interface PreviewFlow {
  src: string;
  dst: string;
  port: PortSpec;
  verdict: Verdict;
  /** The deciding rule's id, "default", or "_same-segment" behind a perimeter (nothing decides). */
  ruleId: string;
  inForce: { verdict: Verdict; ruleId: string };
  /** The verdict differs from the one in force. */
  changed: boolean;
}

export interface PolicyPreview {
  /** Where the policy would be enforced: on every workload (flat) or at the perimeter router. */
  layout: 'flat' | 'perimeter';
  /** The running workloads (one per name), sorted. */
  workloads: string[];
  flows: PreviewFlow[];
  /** How many flows change verdict if the candidate is applied. */
  changed: number;
}

function verdicts(policy: Policy, workloads: Workload[], perimeter: PerimeterLayout | undefined) {
  if (perimeter)
    return perimeterVerdicts(policy, perimeter, workloads).map((f) => ({
      src: f.src,
      dst: f.dst,
      port: f.port,
      verdict: f.verdict,
      ruleId: f.decision.ruleId,
    }));
  return evaluate(policy, workloads).map((f) => ({
    src: f.src,
    dst: f.dst,
    port: f.port,
    verdict: f.verdict,
    ruleId: f.decision.ruleId,
  }));
}

/**
 * Every flow between `workloads` (replicas share a name and count once) under `candidate`,
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
      ? { verdict: old.verdict, ruleId: old.ruleId }
      : { verdict: f.verdict, ruleId: '' };
    return { ...f, inForce: inForceVerdict, changed: inForceVerdict.verdict !== f.verdict };
  });
  return {
    layout: perimeter ? 'perimeter' : 'flat',
    workloads: [...new Set(workloads.map((w) => w.name))].sort(),
    flows,
    changed: flows.filter((f) => f.changed).length,
  };
}
