/**
 * Cilium's CiliumNetworkPolicy as its documentation states it (docs.cilium.io, Policy
 * Language and "Policy Enforcement Modes"), for proofs without a cluster:
 *   - a policy selects endpoints of its namespace by `endpointSelector`;
 *   - a direction is default-deny for an endpoint when a policy selecting it sets
 *     `enableDefaultDeny.<direction>: true`, or leaves it unset and has rules in that direction
 *     (allow or deny); otherwise everything passes that way;
 *   - deny rules (ingressDeny, egressDeny) beat allow rules, whatever their order; allows add up;
 *   - fromEndpoints/toEndpoints select endpoints of the policy's namespace unless a selector
 *     names `k8s:io.kubernetes.pod.namespace`; labels may carry the `k8s:` source prefix;
 *   - toPorts: port (text), endPort (a range, 1.16 or later), protocol TCP, UDP or ANY; none: every port.
 */
import type { Cluster, Flow, LabelSelector, Pod } from './cluster';
import { labelSelectorMatches } from './cluster';

const NS_KEY = 'io.kubernetes.pod.namespace';

interface CiliumPort {
  port: string;
  endPort?: number;
  protocol?: 'TCP' | 'UDP' | 'ANY';
}
interface CiliumRule {
  fromEndpoints?: LabelSelector[];
  toEndpoints?: LabelSelector[];
  toPorts?: { ports?: CiliumPort[] }[];
}
export interface CiliumPolicyObject {
  kind: 'CiliumNetworkPolicy';
  apiVersion: string;
  metadata: { name: string; namespace?: string };
  spec: {
    endpointSelector: LabelSelector;
    enableDefaultDeny?: { ingress?: boolean; egress?: boolean };
    ingress?: CiliumRule[];
    egress?: CiliumRule[];
    ingressDeny?: CiliumRule[];
    egressDeny?: CiliumRule[];
  };
}

const strip = (labels: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(labels ?? {}).map(([k, v]) => [k.replace(/^k8s:/, ''), v]));

/** An endpoint's labels as Cilium sees them: its pod's, and its namespace's name. */
function endpointLabels(pod: Pod): Record<string, string> {
  return { ...pod.labels, [NS_KEY]: pod.namespace };
}

const scopedCache = new WeakMap<LabelSelector, Map<string, LabelSelector>>();

/** A selector as Cilium applies it: `k8s:` prefixes dropped, scoped to the policy's namespace unless it names one. */
function scoped(selector: LabelSelector, policyNs: string): LabelSelector {
  let byNs = scopedCache.get(selector);
  if (!byNs) scopedCache.set(selector, (byNs = new Map()));
  let out = byNs.get(policyNs);
  if (!out) {
    const matchLabels = strip(selector.matchLabels);
    out = {
      matchLabels: NS_KEY in matchLabels ? matchLabels : { ...matchLabels, [NS_KEY]: policyNs },
      ...(selector.matchExpressions
        ? {
            matchExpressions: selector.matchExpressions.map((e) => ({
              ...e,
              key: e.key.replace(/^k8s:/, ''),
            })),
          }
        : {}),
    };
    byNs.set(policyNs, out);
  }
  return out;
}

function selects(selector: LabelSelector, policyNs: string, pod: Pod): boolean {
  return labelSelectorMatches(scoped(selector, policyNs), endpointLabels(pod));
}

function portsMatch(toPorts: CiliumRule['toPorts'], flow: Flow): boolean {
  if (!toPorts || toPorts.length === 0) return true;
  return toPorts.some((tp) =>
    (tp.ports ?? []).length === 0
      ? true
      : tp.ports!.some((p) => {
          const protocol = p.protocol ?? 'ANY';
          if (protocol !== 'ANY' && protocol !== flow.protocol) return false;
          const from = Number(p.port);
          if (from === 0) return true;
          return p.endPort === undefined ? flow.port === from : from <= flow.port && flow.port <= p.endPort;
        }),
  );
}

function ruleMatches(
  rule: CiliumRule,
  direction: 'ingress' | 'egress',
  policyNs: string,
  remote: Pod,
  flow: Flow,
): boolean {
  const peers = direction === 'ingress' ? rule.fromEndpoints : rule.toEndpoints;
  if (peers === undefined)
    throw new Error('a Cilium rule without endpoints (entities, CIDRs) is not modelled');
  return peers.some((s) => selects(s, policyNs, remote)) && portsMatch(rule.toPorts, flow);
}

function directionAllows(
  policies: CiliumPolicyObject[],
  direction: 'ingress' | 'egress',
  local: Pod,
  remote: Pod,
  flow: Flow,
): boolean {
  const selecting = policies.filter((p) =>
    selects(p.spec.endpointSelector, p.metadata.namespace ?? 'default', local),
  );
  const denyKey = direction === 'ingress' ? 'ingressDeny' : 'egressDeny';
  const defaultDeny = selecting.some((p) => {
    const set = p.spec.enableDefaultDeny?.[direction];
    return set ?? Boolean(p.spec[direction]?.length || p.spec[denyKey]?.length);
  });
  const ns = (p: CiliumPolicyObject) => p.metadata.namespace ?? 'default';
  if (selecting.some((p) => p.spec[denyKey]?.some((r) => ruleMatches(r, direction, ns(p), remote, flow))))
    return false;
  if (!defaultDeny) return true;
  return selecting.some((p) =>
    p.spec[direction]?.some((r) => ruleMatches(r, direction, ns(p), remote, flow)),
  );
}

/** Whether the connection is allowed: egress of the source and ingress of the destination. */
export function ciliumAllows(policies: CiliumPolicyObject[], _cluster: Cluster, flow: Flow): boolean {
  return (
    directionAllows(policies, 'egress', flow.src, flow.dst, flow) &&
    directionAllows(policies, 'ingress', flow.dst, flow.src, flow)
  );
}
