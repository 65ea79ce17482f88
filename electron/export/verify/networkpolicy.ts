/**
 * Kubernetes NetworkPolicy as the documentation states it (concepts/services-networking/
 * network-policies), for proofs without a cluster:
 *   - a pod is isolated for ingress (egress) when some policy in its namespace selects it and
 *     has Ingress (Egress) in policyTypes (omitted: Ingress, plus Egress when egress rules exist);
 *   - an isolated pod accepts only what the union of those policies' rules allows; policies
 *     never conflict, they add up;
 *   - a connection needs both ends to allow it: egress of the source, ingress of the destination;
 *   - a peer: podSelector alone (pods of the policy's namespace), namespaceSelector alone (every
 *     pod of those namespaces), both (those pods of those namespaces); ipBlock never matches a
 *     pod here (pod addresses are left to the implementation); no `from`/`to`: every peer;
 *   - ports: protocol TCP unless said; no port: every port of it; endPort: a range.
 */
import type { Cluster, Flow, LabelSelector, Pod } from './cluster';
import { labelSelectorMatches } from './cluster';

interface NpPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: unknown;
}
interface NpPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface NpRule {
  from?: NpPeer[];
  to?: NpPeer[];
  ports?: NpPort[];
}
export interface NetworkPolicyObject {
  kind: 'NetworkPolicy';
  apiVersion: string;
  metadata: { name: string; namespace?: string };
  spec: {
    podSelector: LabelSelector;
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: NpRule[];
    egress?: NpRule[];
  };
}

function types(p: NetworkPolicyObject): string[] {
  return p.spec.policyTypes ?? ['Ingress', ...(p.spec.egress ? ['Egress'] : [])];
}

function peerMatches(peer: NpPeer, policyNs: string, pod: Pod, cluster: Cluster): boolean {
  if (peer.ipBlock) return false;
  if (peer.namespaceSelector) {
    if (!labelSelectorMatches(peer.namespaceSelector, cluster.namespaces[pod.namespace] ?? {})) return false;
    return labelSelectorMatches(peer.podSelector, pod.labels);
  }
  return pod.namespace === policyNs && labelSelectorMatches(peer.podSelector, pod.labels);
}

function portMatches(ports: NpPort[] | undefined, flow: Flow): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== flow.protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') throw new Error(`named port ${p.port} is not modelled`);
    return p.endPort === undefined ? flow.port === p.port : p.port <= flow.port && flow.port <= p.endPort;
  });
}

function directionAllows(
  policies: NetworkPolicyObject[],
  direction: 'Ingress' | 'Egress',
  local: Pod,
  remote: Pod,
  flow: Flow,
  cluster: Cluster,
): boolean {
  const selecting = policies.filter(
    (p) =>
      (p.metadata.namespace ?? 'default') === local.namespace &&
      labelSelectorMatches(p.spec.podSelector, local.labels) &&
      types(p).includes(direction),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (direction === 'Ingress' ? p.spec.ingress : p.spec.egress)?.some((rule) => {
      const peers = direction === 'Ingress' ? rule.from : rule.to;
      const peerOk =
        !peers ||
        peers.length === 0 ||
        peers.some((x) => peerMatches(x, p.metadata.namespace ?? 'default', remote, cluster));
      return peerOk && portMatches(rule.ports, flow);
    }),
  );
}

/** Whether the connection is allowed: egress of the source and ingress of the destination. */
export function networkPolicyAllows(policies: NetworkPolicyObject[], cluster: Cluster, flow: Flow): boolean {
  return (
    directionAllows(policies, 'Egress', flow.src, flow.dst, flow, cluster) &&
    directionAllows(policies, 'Ingress', flow.dst, flow.src, flow, cluster)
  );
}
