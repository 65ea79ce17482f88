/**
 * The perimeter firewall: the same policy, enforced in one place, the router between segment
 * networks (see electron/topology/perimeter.ts for the layout). Pure: a policy, the layout
 * and the workloads in; the router's nft file and the expected verdicts out.
 *
 * What it cannot do is the lesson: a flow between two workloads of the same segment never
 * reaches the router, so no rule of the policy applies to it. `perimeterVerdicts` says so
 * flow by flow, next to what per-workload enforcement would decide.
 */
import type { PerimeterLayout } from '../topology/perimeter';
import type { PortSpec, Workload } from '../topology/workload';
import { ruleComment } from './compile';
import type { ConntrackEntry, Cut } from './cut';
import { FINISHED } from './cut';
import type { Decision, Verdict } from './evaluate';
import { decide, modeOf, uniqueWorkloads, verdictOf } from './evaluate';
import type { Policy } from './policy';

export const PERIMETER_TABLE = 'microlab_perimeter';
/** The rule id a same-segment flow is decided by: nothing, it never meets the firewall. */
export const SAME_SEGMENT = '_same-segment';

export interface PerimeterVerdict {
  src: string;
  dst: string;
  port: PortSpec;
  /** Whether the flow crosses the router. */
  crossesPerimeter: boolean;
  decision: Decision;
  verdict: Verdict;
  /** What per-workload enforcement of the same policy decides, for comparison. */
  microsegmented: Verdict;
}

/** The segment a workload is placed in, by the layout. */
export function segmentOf(layout: PerimeterLayout, name: string): string | undefined {
  return layout.workloads.find((w) => w.name === name)?.segment;
}

/** Every flow between two different workloads to each port the destination exposes. */
export function perimeterVerdicts(
  policy: Policy,
  layout: PerimeterLayout,
  workloads: Workload[],
): PerimeterVerdict[] {
  const list = uniqueWorkloads(workloads);
  const out: PerimeterVerdict[] = [];
  for (const src of list) {
    for (const dst of list) {
      if (src.name === dst.name) continue;
      const crosses = segmentOf(layout, src.name) !== segmentOf(layout, dst.name);
      for (const port of dst.ports) {
        const decision = decide(policy, src, dst, port);
        const microsegmented = verdictOf(decision.action, modeOf(policy, src), modeOf(policy, dst));
        out.push({
          src: src.name,
          dst: dst.name,
          port,
          crossesPerimeter: crosses,
          decision: crosses ? decision : { action: 'allow', ruleId: SAME_SEGMENT },
          verdict: crosses ? microsegmented : 'allowed',
          microsegmented,
        });
      }
    }
  }
  return out;
}

function statement(verdict: Verdict, protocol: string): string {
  if (verdict === 'allowed' || verdict === 'audit') return 'accept';
  if (verdict === 'rejected') return protocol === 'tcp' ? 'reject with tcp reset' : 'reject';
  return 'drop';
}

/** The router's table: proxy addresses translated, cross-segment flows decided, one atomic file. */
export function compilePerimeter(policy: Policy, layout: PerimeterLayout, workloads: Workload[]): string {
  const address = new Map(layout.workloads.map((w) => [w.name, w.address]));
  const dnat = layout.proxies.map((p) => `ip daddr ${p.address} counter dnat to ${p.target}`);
  const snat = layout.segments.map((s) => `ct status dnat ip daddr ${s.subnet} counter snat to ${s.router}`);
  const forward: string[] = ['ct state established,related counter accept comment "_established"'];
  for (const flow of perimeterVerdicts(policy, layout, workloads)) {
    if (!flow.crossesPerimeter) continue;
    const src = address.get(flow.src);
    const dst = address.get(flow.dst);
    if (!src || !dst) continue;
    const comment = ruleComment(flow.decision.ruleId, flow.decision.action, {
      audit: flow.verdict === 'audit',
    });
    forward.push(
      `ip saddr ${src} ip daddr ${dst} ${flow.port.protocol} dport ${flow.port.port} counter ${statement(flow.verdict, flow.port.protocol)} comment "${comment}"`,
    );
  }
  forward.push(`counter drop comment "${ruleComment('default', 'deny')}"`);

  const chain = (name: string, head: string, body: string[]) => [
    `  chain ${name} {`,
    `    ${head}`,
    ...body.map((line) => `    ${line}`),
    '  }',
  ];
  return [
    `# microlab perimeter firewall${policy.name ? `, policy ${policy.name}` : ''}, mode ${policy.mode}`,
    `table ip ${PERIMETER_TABLE} {}`,
    `delete table ip ${PERIMETER_TABLE}`,
    `table ip ${PERIMETER_TABLE} {`,
    ...chain('trace', 'type filter hook prerouting priority -150; policy accept;', [
      'ct state new meta nftrace set 1',
    ]),
    ...chain('prerouting', 'type nat hook prerouting priority dstnat; policy accept;', dnat),
    ...chain('forward', 'type filter hook forward priority 0; policy drop;', forward),
    ...chain('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', snat),
    '}',
    '',
  ].join('\n');
}

/**
 * The router's conntrack entries that `policy` denies: connections opened across the perimeter
 * under an earlier policy (a pooled keep-alive socket lives for minutes), judged as the router's
 * new table judges a new connection. An entry's original destination is a proxy address; its
 * real workload is the proxy's target. Flows inside a segment never reach the router, so no
 * entry of theirs is here.
 */
export function perimeterConnectionsToCut(
  policy: Policy,
  layout: PerimeterLayout,
  workloads: Workload[],
  entries: ConntrackEntry[],
): Cut[] {
  const byName = new Map(uniqueWorkloads(workloads).map((w) => [w.name, w]));
  const byAddress = new Map(layout.workloads.map((w) => [w.address, w.name]));
  const proxies = new Map(layout.proxies.map((p) => [p.address, p]));
  const cuts: Cut[] = [];
  for (const entry of entries) {
    if (entry.state && FINISHED.has(entry.state)) continue;
    const proxy = proxies.get(entry.dst);
    const src = byName.get(byAddress.get(entry.src) ?? '');
    const dst = byName.get(proxy?.workload ?? byAddress.get(entry.dst) ?? '');
    if (!src || !dst || segmentOf(layout, src.name) === segmentOf(layout, dst.name)) continue;
    const decision = decide(policy, src, dst, { port: entry.dport, protocol: entry.protocol });
    const verdict = verdictOf(decision.action, modeOf(policy, src), modeOf(policy, dst));
    if (verdict !== 'denied' && verdict !== 'rejected') continue;
    cuts.push({
      entry,
      direction: 'forward',
      verdict,
      ruleId: decision.ruleId,
      ...(proxy ? { target: proxy.target } : {}),
    });
  }
  return cuts;
}
