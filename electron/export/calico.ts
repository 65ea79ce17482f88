/**
 * Calico (projectcalico.org/v3, 3.30 or later for staged policies and a tier's default action):
 * the full-fidelity target. Calico's tiers are ordered, a policy's rules are ordered and the
 * first Allow or Deny decides, as MicroLab's first match does; Log records and goes on.
 *
 *   Tier microlab                    MicroLab's own tier (order 2000: after the cluster admins'
 *                                    kube-admin tier, 1000, before the default tier, 1000000)
 *   NetworkPolicy microlab.enforce   selects the workloads that enforce; its ingress and its
 *                                    egress are both MicroLab's rules in evaluation order (a
 *                                    rule's source and destination selectors say which flows it
 *                                    is about; Calico checks egress at the source and ingress at
 *                                    the destination, as MicroLab's tables do); `log: true` is a
 *                                    Log rule just before its rule; the default action last;
 *                                    DNS to kube-dns first in egress (MicroLab's tables let it pass)
 *   StagedNetworkPolicy microlab.monitor   the same for the workloads in monitor mode: Calico
 *                                    reports what it would do and enforces nothing
 *   (workloads in mode off are selected by neither)
 *
 * `any` is a rule side with no selector: every endpoint and address, outside the cluster too,
 * as MicroLab's `any` is. Calico has no reject: refused unless --reject-as-deny.
 */
import { modeOf, uniqueWorkloads } from '../firewall/evaluate';
import type { Action, Peer, Policy, Rule } from '../firewall/policy';
import type { Protocol, Workload } from '../topology/workload';
import { DNS_LABELS, DNS_NAMESPACE } from './networkpolicy';
import type { Manifest } from './shop';
import { WORKLOAD_KEY } from './shop';
import type { ExportAccepts, Refusal } from './types';

export const TIER = 'microlab';
/**
 * After Calico's kube-admin tier (order 1000, where the cluster's ClusterNetworkPolicies with
 * the Admin tier live, default action Pass) and before the default tier (1000000, where
 * Kubernetes NetworkPolicies live): the lab's policy neither overrides the cluster admins' nor is
 * overridden by an application team's (Calico docs: "Get started with policy tiers").
 */
export const TIER_ORDER = 2000;

const quote = (v: string) => `'${v}'`;
const equals = (selector: Record<string, string>) =>
  Object.entries(selector)
    .map(([k, v]) => `${k} == ${quote(v)}`)
    .join(' && ');
const named = (names: string[]) =>
  names.length === 1
    ? `${WORKLOAD_KEY} == ${quote(names[0]!)}`
    : `${WORKLOAD_KEY} in { ${names.map(quote).join(', ')} }`;

/** A peer as a Calico selector; undefined for `any` (no selector: everything). */
function peerSelector(policy: Policy, peer: Peer): string | undefined {
  switch (peer.kind) {
    case 'any':
      return undefined;
    case 'workload':
      return named([peer.workload]);
    case 'selector':
      return equals(peer.selector);
    case 'segment': {
      const s = policy.segments.find((x) => x.name === peer.segment)!;
      const parts = [
        ...(s.selector ? [equals(s.selector)] : []),
        ...(s.workloads.length ? [named(s.workloads)] : []),
      ];
      return parts.length === 1 ? parts[0] : parts.map((p) => `(${p})`).join(' || ');
    }
  }
}

function peersSelector(policy: Policy, peers: Peer[]): string | undefined {
  if (peers.some((p) => p.kind === 'any')) return undefined;
  const parts = peers.map((p) => peerSelector(policy, p)!);
  return parts.length === 1 ? parts[0] : parts.map((p) => `(${p})`).join(' || ');
}

const ACTION: Record<Action, string> = { allow: 'Allow', deny: 'Deny', reject: 'Deny' };

/** One MicroLab rule as Calico rules: one per protocol its ports name (one in all when it has none). */
function calicoRules(policy: Policy, rule: Rule): Manifest[] {
  const source = peersSelector(policy, rule.from);
  const destination = peersSelector(policy, rule.to);
  const byProtocol: [Protocol | undefined, Rule['ports']][] = rule.ports
    ? (['tcp', 'udp'] as const)
        .map((p) => [p, rule.ports!.filter((r) => r.protocol === p)] as [Protocol, Rule['ports']])
        .filter(([, ports]) => ports!.length > 0)
    : [[undefined, undefined]];
  return byProtocol.flatMap(([protocol, ports]) => {
    const match = {
      ...(protocol ? { protocol: protocol.toUpperCase() } : {}),
      source: source ? { selector: source } : {},
      destination: {
        ...(destination ? { selector: destination } : {}),
        ...(ports ? { ports: ports.map((r) => (r.from === r.to ? r.from : `${r.from}:${r.to}`)) } : {}),
      },
    };
    const decide = {
      action: ACTION[rule.action],
      ...match,
      metadata: { annotations: { 'microlab.io/rule': rule.id } },
    };
    return rule.log ? [{ action: 'Log', ...match }, decide] : [decide];
  });
}

function rulesOf(policy: Policy): Manifest[] {
  return [
    ...policy.rules.flatMap((r) => calicoRules(policy, r)),
    { action: ACTION[policy.defaultAction], metadata: { annotations: { 'microlab.io/rule': 'default' } } },
  ];
}

const DNS_RULES: Manifest[] = (['UDP', 'TCP'] as const).map((protocol) => ({
  action: 'Allow',
  protocol,
  destination: {
    namespaceSelector: `projectcalico.org/name == ${quote(DNS_NAMESPACE)}`,
    selector: equals(DNS_LABELS),
    ports: [53],
  },
}));

export function calicoRefusals(policy: Policy, accepts: ExportAccepts): Refusal[] {
  const rejecting = policy.rules.filter((r) => r.action === 'reject').map((r) => r.id);
  if (policy.defaultAction === 'reject') rejecting.push('defaultAction');
  return rejecting.length && !accepts.rejectAsDeny
    ? [
        {
          construct: 'reject',
          where: rejecting,
          option: 'rejectAsDeny',
          message: `Calico has no reject (${rejecting.join(', ')}): a denied peer would wait for a timeout instead of being refused at once; --reject-as-deny accepts that`,
        },
      ]
    : [];
}

/** The tier and the enforced and staged policies (those with no workload left out). */
export function calicoManifests(policy: Policy, inventory: Workload[], namespace: string): Manifest[] {
  const workloads = uniqueWorkloads(inventory);
  const inMode = (mode: string) => workloads.filter((w) => modeOf(policy, w) === mode).map((w) => w.name);
  const rules = rulesOf(policy);
  const spec = (names: string[]) => ({
    tier: TIER,
    order: 100,
    selector: named(names),
    types: ['Ingress', 'Egress'],
    ingress: rules,
    egress: [...DNS_RULES, ...rules],
  });
  const out: Manifest[] = [
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'Tier',
      metadata: { name: TIER },
      spec: { order: TIER_ORDER, defaultAction: 'Deny' },
    },
  ];
  const enforce = inMode('enforce');
  const monitor = inMode('monitor');
  if (enforce.length)
    out.push({
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata: { name: `${TIER}.enforce`, namespace },
      spec: spec(enforce),
    });
  if (monitor.length)
    out.push({
      apiVersion: 'projectcalico.org/v3',
      kind: 'StagedNetworkPolicy',
      metadata: { name: `${TIER}.monitor`, namespace },
      spec: spec(monitor),
    });
  return out;
}
