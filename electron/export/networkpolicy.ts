/**
 * Kubernetes NetworkPolicy (networking.k8s.io/v1): allow-only, additive, unordered, and a pod
 * selected by a policy of a direction is isolated in that direction. MicroLab's ordered rules
 * have no counterpart there, so the export is the policy's effect (effect.ts): one policy per
 * workload that enforces, isolated both ways, listing the peers and ports it allows; name
 * lookups to the cluster's DNS allowed explicitly (MicroLab's tables always let them through);
 * ranges as `port` + `endPort` (Kubernetes 1.25 or later).
 */
import type { WorkloadEffect, PortInterval } from './effect';
import { groupByPorts } from './effect';
import type { Manifest } from './shop';
import { WORKLOAD_KEY } from './shop';

/** The cluster's DNS, as kubeadm, kind and most distributions label it. */
export const DNS_NAMESPACE = 'kube-system';
export const DNS_LABELS = { 'k8s-app': 'kube-dns' };
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

function ports(intervals: PortInterval[]): Manifest[] {
  return intervals.map((r) => ({
    protocol: r.protocol.toUpperCase(),
    port: r.from,
    ...(r.to > r.from ? { endPort: r.to } : {}),
  }));
}

const peer = (name: string) => ({ podSelector: { matchLabels: { [WORKLOAD_KEY]: name } } });

export function networkPolicyOf(effect: WorkloadEffect, namespace: string): Manifest {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `microlab-${effect.name}`, namespace, labels: { [WORKLOAD_KEY]: effect.name } },
    spec: {
      podSelector: { matchLabels: { [WORKLOAD_KEY]: effect.name } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: groupByPorts(effect.ingress).map((g) => ({
        from: g.peers.map(peer),
        ...(g.ports ? { ports: ports(g.ports) } : {}),
      })),
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: DNS_NAMESPACE } },
              podSelector: { matchLabels: DNS_LABELS },
            },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        ...groupByPorts(effect.egress).map((g) => ({
          to: g.peers.map(peer),
          ...(g.ports ? { ports: ports(g.ports) } : {}),
        })),
      ],
    },
  };
}

/**
 * Cilium (cilium.io/v2 CiliumNetworkPolicy, 1.16 or later for `endPort`): the same effect, one
 * policy per enforcing workload with `enableDefaultDeny` both ways, so that the allow-lists
 * isolate the pod whatever other policies say; DNS to kube-dns allowed on port 53.
 */
export function ciliumPolicyOf(effect: WorkloadEffect, namespace: string): Manifest {
  const toPorts = (intervals: PortInterval[] | undefined) =>
    intervals
      ? {
          toPorts: [
            {
              ports: intervals.map((r) => ({
                port: String(r.from),
                ...(r.to > r.from ? { endPort: r.to } : {}),
                protocol: r.protocol.toUpperCase(),
              })),
            },
          ],
        }
      : {};
  const endpoint = (name: string) => ({ matchLabels: { [WORKLOAD_KEY]: name } });
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name: `microlab-${effect.name}`, namespace, labels: { [WORKLOAD_KEY]: effect.name } },
    spec: {
      endpointSelector: endpoint(effect.name),
      enableDefaultDeny: { ingress: true, egress: true },
      ingress: groupByPorts(effect.ingress).map((g) => ({
        fromEndpoints: g.peers.map(endpoint),
        ...toPorts(g.ports),
      })),
      egress: [
        {
          toEndpoints: [
            {
              matchLabels: {
                'k8s:io.kubernetes.pod.namespace': DNS_NAMESPACE,
                ...Object.fromEntries(Object.entries(DNS_LABELS).map(([k, v]) => [`k8s:${k}`, v])),
              },
            },
          ],
          toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }] }],
        },
        ...groupByPorts(effect.egress).map((g) => ({
          toEndpoints: g.peers.map(endpoint),
          ...toPorts(g.ports),
        })),
      ],
    },
  };
}
