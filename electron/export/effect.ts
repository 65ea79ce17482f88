/**
 * A policy's *effect* over a known inventory, for the targets that cannot say MicroLab's
 * ordered rules (Kubernetes NetworkPolicy, Cilium): per workload, whether it is isolated, and
 * for every peer workload the ports (as ranges, per protocol) it may reach and be reached on.
 *
 * The decision of a flow is a step function of the port: it can only change where a rule's
 * range starts or ends. So the ports from 1 to 65535 split at every rule boundary into
 * intervals, and one decision per interval (MicroLab's own evaluator, `decide`) gives the exact
 * allow-list, ranges included.
 *
 * MicroLab isolates a workload on both ends (each enforces its own egress and ingress), like
 * NetworkPolicy: a workload that enforces is isolated in both directions and lists what its
 * policy allows; one whose mode is off is not isolated. The flow is then allowed where
 * MicroLab allows it: both lists agree with `decide` when both ends enforce, and the side that
 * does not enforce lets everything through, as MicroLab's does.
 */
import { decide, modeOf, peersMatch, uniqueWorkloads } from '../firewall/evaluate';
import type { Mode, Policy } from '../firewall/policy';
import type { Protocol, Workload } from '../topology/workload';
import type { ExportAccepts, Refusal } from './types';

export const PROTOCOLS: Protocol[] = ['tcp', 'udp'];
export const MAX_PORT = 65535;

export interface PortInterval {
  protocol: Protocol;
  from: number;
  to: number;
}

/** What a workload may reach (egress) or be reached from (ingress): a peer and its ports. */
export interface AllowEntry {
  peer: string;
  /** Undefined: every port and protocol (tcp and udp whole, and the rules without ports allow the rest too). */
  ports?: PortInterval[];
}

export interface WorkloadEffect {
  name: string;
  labels: Record<string, string>;
  mode: Mode;
  /** Enforces: isolated in both directions, with the lists below. */
  isolated: boolean;
  egress: AllowEntry[];
  ingress: AllowEntry[];
}

/** Anything outside the cluster: matched only by `any` (it has no labels and no workload's name). */
export const OUTSIDE: Workload = { name: '(outside the cluster)', labels: {}, ports: [] };

/** Every port where some rule's range starts or ends, per protocol: the decision is constant between two. */
export function boundaries(policy: Policy, protocol: Protocol): number[] {
  const points = new Set<number>([1]);
  for (const rule of policy.rules)
    for (const r of rule.ports ?? [])
      if (r.protocol === protocol) {
        points.add(r.from);
        if (r.to < MAX_PORT) points.add(r.to + 1);
      }
  return [...points].sort((a, b) => a - b);
}

/** The port intervals on which `src` -> `dst` is allowed by the policy's rules (mode aside). */
export function allowedIntervals(policy: Policy, src: Workload, dst: Workload): PortInterval[] {
  const out: PortInterval[] = [];
  for (const protocol of PROTOCOLS) {
    const points = boundaries(policy, protocol);
    points.forEach((from, i) => {
      const to = (points[i + 1] ?? MAX_PORT + 1) - 1;
      if (decide(policy, src, dst, { port: from, protocol }).action !== 'allow') return;
      const last = out.at(-1);
      if (last && last.protocol === protocol && last.to === from - 1) last.to = to;
      else out.push({ protocol, from, to });
    });
  }
  return out;
}

/** Whether a protocol without ports (icmp, sctp...) is allowed: only rules without `ports` match it. */
export function otherProtocolsAllowed(policy: Policy, src: Workload, dst: Workload): boolean {
  for (const rule of policy.rules)
    if (rule.ports === undefined && peersMatch(policy, rule.from, src) && peersMatch(policy, rule.to, dst))
      return rule.action === 'allow';
  return policy.defaultAction === 'allow';
}

function entry(policy: Policy, src: Workload, dst: Workload, peer: string): AllowEntry | undefined {
  const ports = allowedIntervals(policy, src, dst);
  if (ports.length === 0) return undefined;
  const whole = PROTOCOLS.every((p) =>
    ports.some((r) => r.protocol === p && r.from === 1 && r.to === MAX_PORT),
  );
  if (whole && otherProtocolsAllowed(policy, src, dst)) return { peer };
  return { peer, ports };
}

/** The refusals of the flattened targets (NetworkPolicy, Cilium) that `accepts` does not waive. */
export function flatRefusals(
  policy: Policy,
  inventory: Workload[],
  accepts: ExportAccepts,
  what: string,
): Refusal[] {
  const refusals: Refusal[] = [];
  const workloads = uniqueWorkloads(inventory);
  const rejecting = policy.rules.filter((r) => r.action === 'reject').map((r) => r.id);
  if (policy.defaultAction === 'reject') rejecting.push('defaultAction');
  if (rejecting.length && !accepts.rejectAsDeny)
    refusals.push({
      construct: 'reject',
      where: rejecting,
      option: 'rejectAsDeny',
      message: `${what} has no reject (${rejecting.join(', ')}): a denied peer would wait for a timeout instead of being refused at once; --reject-as-deny accepts that`,
    });
  const logging = policy.rules.filter((r) => r.log).map((r) => r.id);
  if (logging.length && !accepts.dropLog)
    refusals.push({
      construct: 'log',
      where: logging,
      option: 'dropLog',
      message: `${what} cannot log a rule's flows (log: true, the default, on ${list(logging)}); --drop-log accepts losing the flow log`,
    });
  const monitored = workloads.filter((w) => modeOf(policy, w) === 'monitor').map((w) => w.name);
  if (monitored.length && !accepts.dropMonitor)
    refusals.push({
      construct: 'monitor',
      where: monitored,
      option: 'dropMonitor',
      message: `${what} has no monitor mode (${list(monitored)} monitor): --drop-monitor exports them without a policy, their would-be denials unreported`,
    });
  if (!accepts.inClusterOnly) {
    const outside = workloads
      .filter((w) => modeOf(policy, w) === 'enforce')
      .filter(
        (w) =>
          allowedIntervals(policy, OUTSIDE, w).length > 0 || allowedIntervals(policy, w, OUTSIDE).length > 0,
      )
      .map((w) => w.name);
    if (outside.length)
      refusals.push({
        construct: 'any-outside',
        where: outside,
        option: 'inClusterOnly',
        message: `${what} is exported over the shop's own workloads, but "any" lets ${list(outside)} talk to clients outside the cluster too; --in-cluster-only accepts that those are denied`,
      });
  }
  return refusals;
}

function list(names: string[]): string {
  return names.length > 4 ? `${names.slice(0, 4).join(', ')} and ${names.length - 4} more` : names.join(', ');
}

/**
 * The effect per workload (sorted by name): isolated when it enforces, with its egress and
 * ingress allow-lists over `inventory` (itself included: its replicas reach each other through
 * the policy). A workload in monitor mode is treated as off (the caller has refused it, or the
 * user accepted that with --drop-monitor).
 */
export function flatten(policy: Policy, inventory: Workload[]): WorkloadEffect[] {
  const workloads = uniqueWorkloads(inventory);
  return workloads.map((w) => {
    const mode = modeOf(policy, w);
    const isolated = mode === 'enforce';
    return {
      name: w.name,
      labels: w.labels,
      mode,
      isolated,
      egress: isolated ? workloads.flatMap((d) => entry(policy, w, d, d.name) ?? []) : [],
      ingress: isolated ? workloads.flatMap((s) => entry(policy, s, w, s.name) ?? []) : [],
    };
  });
}

/** Entries with the same ports grouped: [peers, ports] in first-seen order. */
export function groupByPorts(entries: AllowEntry[]): { peers: string[]; ports?: PortInterval[] }[] {
  const groups = new Map<string, { peers: string[]; ports?: PortInterval[] }>();
  for (const e of entries) {
    const key = JSON.stringify(e.ports ?? null);
    const g = groups.get(key);
    if (g) g.peers.push(e.peer);
    else groups.set(key, { peers: [e.peer], ...(e.ports ? { ports: e.ports } : {}) });
  }
  return [...groups.values()];
}
