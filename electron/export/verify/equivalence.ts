/**
 * The proof without a cluster: the truth table of MicroLab's evaluator against the truth table
 * of a target's own semantics (networkpolicy.ts, cilium.ts, calico.ts, written from each
 * target's documentation and independently of MicroLab's firewall) over the exported
 * manifests, read back from their YAML text.
 *
 * Rows: every ordered pair of workloads (a workload with itself too: its replicas), tcp and
 * udp, and for each the ports where a decision may change (every rule range's a-1, a, b, b+1),
 * the ports the workloads serve, 1 and 65535. Plus name lookups: every workload reaches the
 * cluster's DNS (MicroLab's tables always let them through), and for Calico, whose `any` is
 * MicroLab's, every workload to and from an address outside the cluster. A row matches when both say
 * "connects" or both say "does not" (MicroLab's audit connects; reject and deny do not).
 */
import { parseAllDocuments } from 'yaml';
import { decide, modeOf, uniqueWorkloads, verdictOf } from '../../firewall/evaluate';
import type { Policy } from '../../firewall/policy';
import type { Protocol, Workload } from '../../topology/workload';
import { OUTSIDE } from '../effect';
import { DNS_LABELS, DNS_NAMESPACE, NAMESPACE_NAME_LABEL } from '../networkpolicy';
import { podLabels } from '../shop';
import type { ExportTarget } from '../types';
import { calicoAllows } from './calico';
import type { CalicoObject } from './calico';
import { ciliumAllows } from './cilium';
import type { CiliumPolicyObject } from './cilium';
import type { Cluster, Flow, L4, Pod } from './cluster';
import { ofKind } from './cluster';
import { networkPolicyAllows } from './networkpolicy';
import type { NetworkPolicyObject } from './networkpolicy';

export interface Row {
  src: string;
  dst: string;
  protocol: Protocol;
  port: number;
  microlab: boolean;
  target: boolean;
}

export interface Proof {
  target: ExportTarget;
  rows: number;
  mismatches: Row[];
}

/** The ports worth checking for `protocol`: every range's edges and their neighbours, served ports, 1 and 65535. */
export function portsToCheck(policy: Policy, workloads: Workload[], protocol: Protocol): number[] {
  const ports = new Set<number>([1, 65535]);
  for (const w of workloads) for (const p of w.ports) if (p.protocol === protocol) ports.add(p.port);
  for (const rule of policy.rules)
    for (const r of rule.ports ?? [])
      if (r.protocol === protocol) for (const p of [r.from - 1, r.from, r.to, r.to + 1]) ports.add(p);
  return [...ports].filter((p) => p >= 1 && p <= 65535).sort((a, b) => a - b);
}

/** Whether MicroLab lets src open a connection to dst:port (allowed, or audit in monitor mode). */
export function microlabConnects(
  policy: Policy,
  src: Workload,
  dst: Workload,
  protocol: Protocol,
  port: number,
): boolean {
  const verdict = verdictOf(
    decide(policy, src, dst, { port, protocol }).action,
    modeOf(policy, src),
    modeOf(policy, dst),
  );
  return verdict === 'allowed' || verdict === 'audit';
}

const DNS_POD: Pod = { name: 'kube-dns', namespace: DNS_NAMESPACE, labels: { ...DNS_LABELS } };
/** A client or host outside the cluster, for the targets whose `any` reaches it (Calico). */
const OUTSIDE_POD: Pod = { name: OUTSIDE.name, namespace: '', labels: {}, external: true };

/** Whether MicroLab lets a peer outside (no firewall of its own) and `w` connect, either way. */
function microlabOutside(
  policy: Policy,
  w: Workload,
  inbound: boolean,
  protocol: Protocol,
  port: number,
): boolean {
  const [src, dst] = inbound ? [OUTSIDE, w] : [w, OUTSIDE];
  const verdict = verdictOf(decide(policy, src, dst, { port, protocol }).action, 'off', modeOf(policy, w));
  return verdict === 'allowed' || verdict === 'audit';
}

/** The cluster the manifests land in: the shop's pods in `namespace`, kube-dns in kube-system. */
export function clusterOf(workloads: Workload[], namespace: string): Cluster {
  return {
    pods: [...workloads.map((w) => ({ name: w.name, namespace, labels: podLabels(w) })), DNS_POD],
    namespaces: {
      [namespace]: { [NAMESPACE_NAME_LABEL]: namespace },
      [DNS_NAMESPACE]: { [NAMESPACE_NAME_LABEL]: DNS_NAMESPACE },
    },
  };
}

/** The target's own verdict function over the manifests' YAML text. */
export function targetSemantics(
  target: ExportTarget,
  yamlText: string,
): (cluster: Cluster, flow: Flow) => boolean {
  const objects = parseAllDocuments(yamlText).map((d) => d.toJSON() as unknown);
  switch (target) {
    case 'networkpolicy': {
      const policies = ofKind<NetworkPolicyObject>(objects, 'NetworkPolicy');
      return (cluster, flow) => networkPolicyAllows(policies, cluster, flow);
    }
    case 'cilium': {
      const policies = ofKind<CiliumPolicyObject>(objects, 'CiliumNetworkPolicy');
      return (cluster, flow) => ciliumAllows(policies, cluster, flow);
    }
    case 'calico': {
      const all = ofKind<CalicoObject>(
        objects,
        'Tier',
        'NetworkPolicy',
        'GlobalNetworkPolicy',
        'StagedNetworkPolicy',
      );
      return (cluster, flow) => calicoAllows(all, cluster, flow);
    }
  }
}

/** Both truth tables over `inventory`, and the rows where they differ. */
export function prove(
  target: ExportTarget,
  policy: Policy,
  inventory: Workload[],
  yamlText: string,
  namespace: string,
): Proof {
  const allows = targetSemantics(target, yamlText);
  const workloads = uniqueWorkloads(inventory);
  const cluster = clusterOf(workloads, namespace);
  const pod = (name: string) => cluster.pods.find((p) => p.name === name && p.namespace === namespace)!;
  const mismatches: Row[] = [];
  let rows = 0;
  const check = (row: Omit<Row, 'target'>, flow: Flow) => {
    rows++;
    const target = allows(cluster, flow);
    if (target !== row.microlab) mismatches.push({ ...row, target });
  };
  for (const protocol of ['tcp', 'udp'] as const) {
    const ports = portsToCheck(policy, workloads, protocol);
    const l4 = protocol.toUpperCase() as L4;
    for (const src of workloads) {
      for (const dst of workloads)
        for (const port of ports)
          check(
            {
              src: src.name,
              dst: dst.name,
              protocol,
              port,
              microlab: microlabConnects(policy, src, dst, protocol, port),
            },
            { src: pod(src.name), dst: pod(dst.name), protocol: l4, port },
          );
      check(
        { src: src.name, dst: 'kube-dns', protocol, port: 53, microlab: true },
        { src: pod(src.name), dst: DNS_POD, protocol: l4, port: 53 },
      );
      // Calico's `any` is MicroLab's: everything, outside the cluster too (the flattened
      // targets refuse it unless --in-cluster-only, whose loss is the point).
      if (target === 'calico')
        for (const port of ports) {
          check(
            {
              src: OUTSIDE.name,
              dst: src.name,
              protocol,
              port,
              microlab: microlabOutside(policy, src, true, protocol, port),
            },
            { src: OUTSIDE_POD, dst: pod(src.name), protocol: l4, port },
          );
          check(
            {
              src: src.name,
              dst: OUTSIDE.name,
              protocol,
              port,
              microlab: microlabOutside(policy, src, false, protocol, port),
            },
            { src: pod(src.name), dst: OUTSIDE_POD, protocol: l4, port },
          );
        }
    }
  }
  return { target, rows, mismatches };
}
