/**
 * Cutting the connections a new policy denies. A table accepts `ct state established` before
 * any rule, so a connection opened under an older policy would outlive a policy that denies it
 * (the app's pooled database connection kept the storefront "healthy" for minutes). After a
 * table loads, each affected namespace's conntrack entries are listed, judged against the
 * policy exactly as that namespace's table judges a new connection, and the denied ones are
 * deleted; the next packet of such a connection is then new, and the table drops it.
 *
 * Facts: Debian's `conntrack` (conntrack-tools) lists and deletes a network namespace's own
 * entries (`conntrack -L`, `conntrack -D` with the original tuple); it needs NET_ADMIN, which
 * the firewall sidecar has. Calico, Antrea and Kubernetes document established connections
 * surviving a policy change as a known surprise; here it is a switch (`keepEstablished`).
 *
 * Pure: parsing, judging and the delete script; the enforcer runs them in the sidecars.
 */
import type { Protocol, Workload, WorkloadInstance } from '../topology/workload';
import { decide, modeOf } from './evaluate';
import type { Policy } from './policy';

/** One conntrack entry's original direction (who opened the connection, to which port). */
export interface ConntrackEntry {
  protocol: Protocol;
  /** TCP state (ESTABLISHED, TIME_WAIT...); absent for UDP. */
  state?: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

/** A connection to cut in one namespace, and why. */
export interface Cut {
  entry: ConntrackEntry;
  /**
   * egress: the namespace's workload opened it; ingress: a peer opened it to the workload;
   * forward: it crosses the perimeter router (firewall/perimeter.ts).
   */
  direction: 'ingress' | 'egress' | 'forward';
  verdict: 'denied' | 'rejected';
  /** The deciding rule's id, or "default". */
  ruleId: string;
  /**
   * The destination's real address, when the entry's is a proxy address the perimeter router
   * translates: the log line names the real one, so the flow log finds the workload.
   */
  target?: string;
}

/** The prefix of the line a sidecar's log gets for every connection cut (read by flows.ts). */
export const CUT_MARK = 'microlab-cut';

const ENTRY = /^(tcp|udp)\s+\d+\s+\d+\s+(?:([A-Z_]+)\s+)?src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)(?:\s|$)/;

/** The family prefix of `/proc/net/nf_conntrack`'s lines ("ipv4     2 "), which `conntrack -L` leaves out. */
const FAMILY = /^ipv([46])\s+\d+\s+/;

/**
 * Parses `conntrack -L` output, or `/proc/net/nf_conntrack` (the same entries, each after its
 * family: IPv6 entries are skipped, as `conntrack -L` lists IPv4 only), one entry a line; the
 * summary line and ICMP entries are skipped.
 */
export function parseConntrack(text: string): ConntrackEntry[] {
  const entries: ConntrackEntry[] = [];
  for (const raw of text.split('\n')) {
    const family = FAMILY.exec(raw.trim());
    if (family?.[1] === '6') continue;
    const line = family ? raw.trim().slice(family[0].length) : raw;
    const m = ENTRY.exec(line.trim());
    if (!m) continue;
    entries.push({
      protocol: m[1] as Protocol,
      ...(m[2] ? { state: m[2] } : {}),
      src: m[3]!,
      dst: m[4]!,
      sport: Number(m[5]),
      dport: Number(m[6]),
    });
  }
  return entries;
}

/** Connections already closing hold nothing to cut. */
export const FINISHED = new Set(['TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'FIN_WAIT']);

/** An address that belongs to no running workload: only `any` peers match it, as in the tables. */
const OUTSIDE: Workload = { name: '', labels: {}, ports: [] };

/**
 * The entries of `target`'s namespace that `policy` denies, judged as `target`'s own table
 * judges a new connection: its egress for connections it opened, its ingress for the others,
 * and only where it enforces (monitor mode lets everything pass). Loopback and Docker's
 * resolver are never cut.
 */
export function connectionsToCut(
  policy: Policy,
  target: WorkloadInstance,
  instances: WorkloadInstance[],
  entries: ConntrackEntry[],
): Cut[] {
  if (modeOf(policy, target) !== 'enforce') return [];
  const own = new Set(Object.values(target.addresses));
  const byAddress = new Map<string, Workload>();
  for (const i of instances) for (const a of Object.values(i.addresses)) byAddress.set(a, i);
  const cuts: Cut[] = [];
  for (const entry of entries) {
    if (entry.state && FINISHED.has(entry.state)) continue;
    const direction = own.has(entry.src) ? 'egress' : own.has(entry.dst) ? 'ingress' : undefined;
    if (!direction) continue;
    const peerAddress = direction === 'egress' ? entry.dst : entry.src;
    if (peerAddress.startsWith('127.')) continue;
    const peer = byAddress.get(peerAddress) ?? OUTSIDE;
    const port = { port: entry.dport, protocol: entry.protocol };
    const decision =
      direction === 'egress' ? decide(policy, target, peer, port) : decide(policy, peer, target, port);
    if (decision.action === 'allow') continue;
    cuts.push({
      entry,
      direction,
      verdict: decision.action === 'reject' ? 'rejected' : 'denied',
      ruleId: decision.ruleId,
    });
  }
  return cuts;
}

/** The key of a connection, the same from both of its ends. */
export function connectionKey(entry: ConntrackEntry): string {
  return `${entry.protocol} ${entry.src}:${entry.sport} ${entry.dst}:${entry.dport}`;
}

const SAFE = /^[0-9A-Za-z_.:-]+$/;

/**
 * A shell script that deletes each cut entry (by its original tuple) and writes one line per
 * deleted entry to the sidecar's log (its main process's stdout, `/proc/1/fd/1`), where the
 * flow log reads it: "microlab-cut <direction> <protocol> <src> <sport> <dst> <dport> <verdict> <rule>".
 */
export function cutScript(cuts: Cut[]): string {
  const lines = cuts.map(({ entry: e, direction, verdict, ruleId, target }, i) => {
    const fields = [
      direction,
      e.protocol,
      e.src,
      String(e.sport),
      target ?? e.dst,
      String(e.dport),
      verdict,
      ruleId,
    ];
    if (!fields.every((f) => SAFE.test(f)) || !SAFE.test(e.dst))
      throw new Error(`unexpected characters in ${fields.join(' ')}`);
    return (
      `conntrack -D -p ${e.protocol} -s ${e.src} -d ${e.dst} --sport ${e.sport} --dport ${e.dport} >/dev/null 2>&1 ` +
      `&& echo "${CUT_MARK} ${fields.join(' ')}" > /proc/1/fd/1; echo "deleted ${i} $?"`
    );
  });
  return lines.join('\n');
}

/** Reads back which of the script's cuts deleted an entry (by index): an entry may have closed meanwhile. */
export function parseCutResults(output: string): Set<number> {
  const done = new Set<number>();
  for (const m of output.matchAll(/^deleted (\d+) 0$/gm)) done.add(Number(m[1]));
  return done;
}

/**
 * Reads a cut line back (from a sidecar's log); the line may follow part of a trace line,
 * which nft's monitor writes to the same stdout through a block buffer.
 */
export function parseCutLine(
  line: string,
): (Omit<Cut, 'entry'> & { entry: Omit<ConntrackEntry, 'state'> }) | undefined {
  const m = new RegExp(
    `${CUT_MARK} (ingress|egress|forward) (tcp|udp) (\\S+) (\\d+) (\\S+) (\\d+) (denied|rejected) (\\S+)\\s*$`,
  ).exec(line);
  if (!m) return undefined;
  return {
    direction: m[1] as Cut['direction'],
    entry: { protocol: m[2] as Protocol, src: m[3]!, sport: Number(m[4]), dst: m[5]!, dport: Number(m[6]) },
    verdict: m[7] as Cut['verdict'],
    ruleId: m[8]!,
  };
}
