/**
 * How the reachability matrix probes a perimeter layout (the router between segment networks):
 * within a segment, directly (and nothing decides); across, through the proxy address on the
 * caller's network (the router decides, by the same evaluator).
 */
import { decide, modeOf, verdictOf } from '../firewall/evaluate';
import { SAME_SEGMENT, segmentOf } from '../firewall/perimeter';
import type { Policy } from '../firewall/policy';
import type { PerimeterLayout } from '../topology/perimeter';
import type { WorkloadInstance } from '../topology/workload';
import type { ProbePlan } from './matrix';

/** The plan `runProbe` takes for a perimeter `layout`. */
export function perimeterPlan(layout: PerimeterLayout) {
  return (policy: Policy, _instances: WorkloadInstance[]): ProbePlan => ({
    address: (src, dst) => {
      const srcSegment = segmentOf(layout, src.name);
      if (srcSegment === segmentOf(layout, dst.name)) {
        for (const [network, address] of Object.entries(dst.addresses))
          if (src.addresses[network]) return address;
        return undefined;
      }
      return layout.proxies.find((p) => p.workload === dst.name && p.segment === srcSegment)?.address;
    },
    decide: (src, dst, port) => {
      if (segmentOf(layout, src.name) === segmentOf(layout, dst.name))
        return { verdict: 'allowed', ruleId: SAME_SEGMENT };
      const decision = decide(policy, src, dst, port);
      return {
        verdict: verdictOf(decision.action, modeOf(policy, src), modeOf(policy, dst)),
        ruleId: decision.ruleId,
      };
    },
  });
}
