/**
 * The evaluator: what a policy does to every flow between workloads, and why. Pure: the same
 * policy and workloads always give the same answer, with no Docker in sight. The compiler
 * turns the same decisions into nftables rules; probes check the kernel agrees.
 *
 * A flow src -> dst:port is decided by the first rule (in evaluation order) whose `from`
 * matches src, whose `to` matches dst and whose ports hold the port; no match means the
 * default action. Each workload enforces its own egress and ingress, in its own mode:
 *   - allow                                     -> allowed
 *   - deny/reject, src or dst enforces          -> denied / rejected
 *   - deny/reject, neither enforces, one monitors -> audit (passes, reported)
 *   - both off                                  -> allowed (nothing is loaded)
 */
import type { PortSpec, Workload } from '../topology/workload';
import type { Action, Mode, Peer, Policy, Rule } from './policy';
import { formatPortRange } from './policy';
import type { Verdict } from './vocabulary';

export type { Verdict };

export interface Decision {
  action: Action;
  /** The deciding rule's id, or "default". */
  ruleId: string;
}

export interface FlowVerdict {
  src: string;
  dst: string;
  port: PortSpec;
  decision: Decision;
  verdict: Verdict;
}

const MODE_ORDER: Record<Mode, number> = { off: 0, monitor: 1, enforce: 2 };

/** The policy with one mode for every workload (segment overrides dropped), as `apply --mode` asks. */
export function withMode(policy: Policy, mode: Mode | undefined): Policy {
  if (!mode) return policy;
  return {
    ...policy,
    mode,
    segments: policy.segments.map((s) => ({
      name: s.name,
      ...(s.selector ? { selector: s.selector } : {}),
      workloads: s.workloads,
    })),
  };
}

export function selectorMatches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function segmentsOf(policy: Policy, workload: Workload): string[] {
  return policy.segments
    .filter(
      (s) =>
        s.workloads.includes(workload.name) ||
        (s.selector !== undefined && selectorMatches(s.selector, workload.labels)),
    )
    .map((s) => s.name);
}

/**
 * A workload's mode: the policy's, unless a segment it is in overrides it; when several of
 * its segments do, the least strict wins (a rollout never enforces by accident).
 */
export function modeOf(policy: Policy, workload: Workload): Mode {
  const overrides = policy.segments
    .filter((s) => s.mode !== undefined && segmentsOf(policy, workload).includes(s.name))
    .map((s) => s.mode!);
  if (overrides.length === 0) return policy.mode;
  return overrides.reduce((a, b) => (MODE_ORDER[a] <= MODE_ORDER[b] ? a : b));
}

export function peerMatches(policy: Policy, peer: Peer, workload: Workload): boolean {
  switch (peer.kind) {
    case 'any':
      return true;
    case 'workload':
      return peer.workload === workload.name;
    case 'selector':
      return selectorMatches(peer.selector, workload.labels);
    case 'segment':
      return segmentsOf(policy, workload).includes(peer.segment);
  }
}

export function peersMatch(policy: Policy, peers: Peer[], workload: Workload): boolean {
  return peers.some((p) => peerMatches(policy, p, workload));
}

export function portMatches(rule: Rule, port: PortSpec): boolean {
  return (
    rule.ports === undefined ||
    rule.ports.some((r) => r.protocol === port.protocol && r.from <= port.port && port.port <= r.to)
  );
}

export function decide(policy: Policy, src: Workload, dst: Workload, port: PortSpec): Decision {
  for (const rule of policy.rules) {
    if (peersMatch(policy, rule.from, src) && peersMatch(policy, rule.to, dst) && portMatches(rule, port))
      return { action: rule.action, ruleId: rule.id };
  }
  return { action: policy.defaultAction, ruleId: 'default' };
}

export function verdictOf(action: Action, srcMode: Mode, dstMode: Mode): Verdict {
  if (action === 'allow') return 'allowed';
  if (srcMode === 'enforce' || dstMode === 'enforce') return action === 'reject' ? 'rejected' : 'denied';
  if (srcMode === 'monitor' || dstMode === 'monitor') return 'audit';
  return 'allowed';
}

/** One workload per name (replicas share name, labels and ports). */
export function uniqueWorkloads(workloads: Workload[]): Workload[] {
  const byName = new Map<string, Workload>();
  for (const w of workloads) if (!byName.has(w.name)) byName.set(w.name, w);
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** How many replicas of each workload `workloads` holds (instances of one workload share its name). */
export function replicaCounts(workloads: Workload[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of workloads) counts.set(w.name, (counts.get(w.name) ?? 0) + 1);
  return counts;
}

/**
 * Every flow to each port the destination exposes: between two different workloads, and from
 * a workload to itself when it runs more than one replica (to the firewall each replica is a
 * host of its own, so the policy decides whether siblings reach each other; a replica reaching
 * itself goes over loopback, which every table allows, so a single replica has no such flow).
 * Pass the running instances (replicas share a name) to get the replica pairs.
 */
export function evaluate(policy: Policy, workloads: Workload[]): FlowVerdict[] {
  const list = uniqueWorkloads(workloads);
  const replicas = replicaCounts(workloads);
  const modes = new Map(list.map((w) => [w.name, modeOf(policy, w)]));
  const flows: FlowVerdict[] = [];
  for (const src of list) {
    for (const dst of list) {
      if (src.name === dst.name && (replicas.get(src.name) ?? 0) < 2) continue;
      for (const port of dst.ports) {
        const decision = decide(policy, src, dst, port);
        flows.push({
          src: src.name,
          dst: dst.name,
          port,
          decision,
          verdict: verdictOf(decision.action, modes.get(src.name)!, modes.get(dst.name)!),
        });
      }
    }
  }
  return flows;
}

export interface RuleConsideration {
  id: string;
  priority: number;
  action: Action;
  /** Why it did not decide, or "matches". */
  outcome: 'matches' | 'from does not match' | 'to does not match' | 'port not covered' | 'not reached';
}

export interface Explanation {
  src: { name: string; segments: string[]; mode: Mode };
  dst: { name: string; segments: string[]; mode: Mode };
  port: PortSpec;
  rules: RuleConsideration[];
  decision: Decision;
  verdict: Verdict;
  /** The same, as sentences. */
  text: string[];
}

function describePeers(peers: Peer[]): string {
  return peers
    .map((p) =>
      p.kind === 'any'
        ? 'any'
        : p.kind === 'segment'
          ? `segment ${p.segment}`
          : p.kind === 'workload'
            ? `workload ${p.workload}`
            : `selector ${Object.entries(p.selector)
                .map(([k, v]) => `${k}=${v}`)
                .join(',')}`,
    )
    .join(' or ');
}

/**
 * Why `src -> dst:port` gets its verdict. `src` and `dst` may be the same workload: then the
 * flow is between two of its replicas, and `replicas` (how many run now) says whether there is
 * a sibling to reach.
 */
export function explain(
  policy: Policy,
  src: Workload,
  dst: Workload,
  port: PortSpec,
  { replicas }: { replicas?: number } = {},
): Explanation {
  const srcInfo = { name: src.name, segments: segmentsOf(policy, src), mode: modeOf(policy, src) };
  const dstInfo = { name: dst.name, segments: segmentsOf(policy, dst), mode: modeOf(policy, dst) };
  const portText = `${port.port}/${port.protocol}`;
  const text =
    src.name === dst.name
      ? [
          `${src.name} to ${dst.name}: from one replica to another (each replica is a host of its own to the firewall, so the policy decides; a replica reaching itself goes over loopback and is always allowed)`,
          ...(replicas !== undefined && replicas < 2
            ? [`${src.name} runs ${replicas} replica now: this applies once it runs more`]
            : replicas !== undefined
              ? [`${src.name} runs ${replicas} replicas`]
              : []),
          `${src.name} is in ${srcInfo.segments.length ? `segments ${srcInfo.segments.join(', ')}` : 'no segment'} (mode ${srcInfo.mode})`,
        ]
      : [
          `${src.name} is in ${srcInfo.segments.length ? `segments ${srcInfo.segments.join(', ')}` : 'no segment'} (mode ${srcInfo.mode})`,
          `${dst.name} is in ${dstInfo.segments.length ? `segments ${dstInfo.segments.join(', ')}` : 'no segment'} (mode ${dstInfo.mode})`,
        ];
  const rules: RuleConsideration[] = [];
  let decision: Decision | undefined;
  for (const rule of policy.rules) {
    let outcome: RuleConsideration['outcome'];
    if (decision) outcome = 'not reached';
    else if (!peersMatch(policy, rule.from, src)) outcome = 'from does not match';
    else if (!peersMatch(policy, rule.to, dst)) outcome = 'to does not match';
    else if (!portMatches(rule, port)) outcome = 'port not covered';
    else {
      outcome = 'matches';
      decision = { action: rule.action, ruleId: rule.id };
    }
    rules.push({ id: rule.id, priority: rule.priority, action: rule.action, outcome });
    if (outcome === 'not reached') continue;
    const ports = rule.ports ? rule.ports.map(formatPortRange).join(', ') : 'every port';
    text.push(
      `rule ${rule.id} (priority ${rule.priority}, ${rule.action} from ${describePeers(rule.from)} to ${describePeers(rule.to)} on ${ports}): ${outcome}`,
    );
  }
  if (!decision) {
    decision = { action: policy.defaultAction, ruleId: 'default' };
    text.push(`no rule matches ${portText}: the default action ${policy.defaultAction} applies`);
  }
  const verdict = verdictOf(decision.action, srcInfo.mode, dstInfo.mode);
  text.push(
    verdict === 'audit'
      ? `verdict: audit (${decision.action} by ${decision.ruleId}, but neither side enforces: the flow passes and is reported)`
      : verdict === 'allowed' && decision.action !== 'allow'
        ? `verdict: allowed (${decision.action} by ${decision.ruleId}, but the firewall is off on both sides)`
        : `verdict: ${verdict} by ${decision.ruleId}`,
  );
  return { src: srcInfo, dst: dstInfo, port, rules, decision, verdict, text };
}
