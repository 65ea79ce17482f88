/**
 * The reachability matrix: from every workload to every instance of every other workload, and
 * to every other replica of its own (siblings are hosts of their own to the firewall), on each
 * port it exposes, what the evaluator expects next to what a real connection attempt
 * observes. The attempt runs inside the source's network namespace, from its pod's holder
 * (or, without one, a throwaway container in the same namespace), so the source's egress
 * rules and the destination's ingress rules both apply, and app images need no tools.
 *
 * One exec per source runs all of its probes in parallel with a short timeout. Every allowed
 * flow is a real connection; a rejected one is refused at once; a dropped one is known as
 * soon as the kernel's trace prints its drop (drops.ts: the rule, in whose table), else
 * after the timeout, as before. The matrix is ready when every cell has its answer.
 */
import type Docker from 'dockerode';
import { performance } from 'node:perf_hooks';
import { runToCompletion } from '../engine/containers';
import { execLines } from '../engine/exec';
import { baseImageName } from '../engine/images';
import { labelsFor } from '../engine/labels';
import { decide, modeOf, uniqueWorkloads, verdictOf } from '../firewall/evaluate';
import type { Verdict } from '../firewall/evaluate';
import { listInstances } from '../firewall/instances';
import type { Policy } from '../firewall/policy';
import { findRouter } from '../firewall/perimeter-router';
import type { PortSpec, WorkloadInstance } from '../topology/workload';
import { ROUTER } from '../topology/perimeter';
import type { Drop, TraceSource } from './drops';
import { followDrops, nextSourcePorts } from './drops';

export type Outcome = 'connected' | 'refused' | 'timeout';
export type Observed = Outcome | 'error' | 'untested';

export interface ProbeCell {
  src: string;
  /** The source replica the probe ran from. */
  srcContainer: string;
  dst: string;
  /** The destination replica probed, and the address used. */
  dstContainer: string;
  address: string;
  port: PortSpec;
  verdict: Verdict;
  ruleId: string;
  expected: Outcome;
  observed: Observed;
  /** observed === expected (an untested cell, e.g. UDP, counts as a match). */
  match: boolean;
  detail?: string;
  /**
   * A timeout known early: the kernel traced the drop of this probe's own packet (its source
   * address, source port and destination port) before the wait ran out. Absent: the attempt
   * waited out its timeout, or was answered.
   */
  evidence?: {
    /** The rule that dropped it (its id, or "default"). */
    ruleId: string;
    /** The workload whose table dropped it, or the perimeter router. */
    seenBy: string;
    direction: 'ingress' | 'egress' | 'forward';
    /** From the start of the source's probes to the drop read from the trace, in ms. */
    afterMs: number;
  };
}

export interface ProbeReport {
  cells: ProbeCell[];
  mismatches: number;
  durationMs: number;
}

/** What a connection attempt should see for each verdict. */
export function expectedOutcome(verdict: Verdict): Outcome {
  return verdict === 'denied' ? 'timeout' : verdict === 'rejected' ? 'refused' : 'connected';
}

/** A policy with no rules and mode off: what "no policy in force" means. */
export const NO_POLICY: Policy = { mode: 'off', defaultAction: 'allow', segments: [], rules: [] };

/**
 * Probes "ADDRESS PORT SOURCE-PORT" triples in parallel, each SYN from its own source port;
 * prints "EXIT ADDRESS PORT SOURCE-PORT MESSAGE" lines as each attempt ends (the message's
 * words joined by the shell itself: no process but nc's per attempt). A whole number of
 * seconds is nc's own connect timeout (`-w`, which takes whole seconds only); a fractional one
 * bounds each attempt with coreutils' `timeout` (which also counts nc's start, so it is less
 * forgiving on a busy machine), and an attempt it ends reads "timed out". A source port the
 * container still holds (a connection of an earlier probe run in TIME_WAIT, up to 60 s: each
 * `microlab probe` process starts at a random point of the range) fails nc's bind; the attempt
 * is then made again from a port the kernel picks, reported under the port asked for (its drop
 * is then known from its timeout, not from the trace).
 */
export const PROBE_SCRIPT = `t=$1; shift
attempt() { case $t in *.*) timeout "$t" nc -z -v -w 10 "$@" 2>&1;; *) nc -z -v -w "$t" "$@" 2>&1;; esac; }
while [ $# -ge 3 ]; do
  (out=$(attempt -p "$3" "$1" "$2"); code=$?; case $out in *'Address already in use'*) out=$(attempt "$1" "$2"); code=$?;; esac; [ "$code" = 124 ] && out="$out timed out"; a=$1 p=$2 s=$3; set -f; set -- $out; printf '%s %s %s %s %s\\n' "$code" "$a" "$p" "$s" "$*") &
  shift 3
done
wait`;

export function classify(exitCode: number, message: string): Observed {
  if (exitCode === 0) return 'connected';
  if (/refused/i.test(message)) return 'refused';
  if (/timed out/i.test(message)) return 'timeout';
  return 'error';
}

function sharedAddress(src: WorkloadInstance, dst: WorkloadInstance): string | undefined {
  for (const [network, address] of Object.entries(dst.addresses)) if (src.addresses[network]) return address;
  return undefined;
}

interface Target {
  cell: ProbeCell;
  /** The source port its SYN leaves from. */
  sport: number;
}

/**
 * Where a source reaches a destination, and what the firewall should decide. The default is
 * microsegmentation: a shared network, and the evaluator's verdict. The perimeter layout
 * brings its own (proxy addresses, and nothing decided inside a segment).
 */
export interface ProbePlan {
  address(src: WorkloadInstance, dst: WorkloadInstance): string | undefined;
  decide(src: WorkloadInstance, dst: WorkloadInstance, port: PortSpec): { verdict: Verdict; ruleId: string };
}

export function microsegmentationPlan(policy: Policy, instances: WorkloadInstance[]): ProbePlan {
  const modes = new Map(uniqueWorkloads(instances).map((w) => [w.name, modeOf(policy, w)]));
  return {
    address: sharedAddress,
    decide: (src, dst, port) => {
      const decision = decide(policy, src, dst, port);
      return {
        verdict: verdictOf(decision.action, modes.get(src.name)!, modes.get(dst.name)!),
        ruleId: decision.ruleId,
      };
    },
  };
}

export async function runProbe(
  docker: Docker,
  project: string,
  policy: Policy | undefined,
  {
    timeoutSeconds = 1,
    plan: makePlan = microsegmentationPlan,
    sources: only,
    traceDrops = true,
  }: {
    timeoutSeconds?: number;
    plan?: (policy: Policy, instances: WorkloadInstance[]) => ProbePlan;
    /** Probe from these workloads only (by name); every workload when absent. */
    sources?: string[];
    /** Learn drops from the kernel's trace (drops.ts); false: every drop waits out the timeout. */
    traceDrops?: boolean;
  } = {},
): Promise<ProbeReport> {
  const start = performance.now();
  const effective = policy ?? NO_POLICY;
  const [instances, router] = await Promise.all([
    listInstances(docker, project),
    findRouter(docker, project).catch(() => undefined),
  ]);
  const workloads = uniqueWorkloads(instances);
  const plan = makePlan(effective, instances);
  const sources = workloads
    .filter((w) => !only || only.includes(w.name))
    .map((w) => instances.find((i) => i.name === w.name)!);

  // Every cell, and the probes each source sends (TCP: UDP has no connection to observe).
  const perSource = sources.map((src) => {
    const targets: Target[] = [];
    for (const dst of instances) {
      if (dst.containerId === src.containerId) continue;
      const address = plan.address(src, dst);
      if (!address) continue;
      for (const port of dst.ports) {
        const { verdict, ruleId } = plan.decide(src, dst, port);
        targets.push({
          sport: 0,
          cell: {
            src: src.name,
            srcContainer: src.containerName,
            dst: dst.name,
            dstContainer: dst.containerName,
            address,
            port,
            verdict,
            ruleId,
            expected: expectedOutcome(verdict),
            observed: 'untested',
            match: true,
          },
        });
      }
    }
    const tcp = targets.filter((t) => t.cell.port.protocol === 'tcp');
    const ports = nextSourcePorts(tcp.length);
    tcp.forEach((t, i) => (t.sport = ports[i]!));
    return { src, targets, tcp };
  });

  // The drops the kernel traces, by source port and destination port (unique in this run).
  const waiting = new Map<string, { src: WorkloadInstance; target: Target; settle: (drop: Drop) => void }>();
  const key = (sport: number, port: number) => `${sport} ${port}`;
  const traceSources: TraceSource[] = [
    ...new Map(
      instances.filter((i) => i.holder).map((i) => [i.holder!, { id: i.holder!, workload: i.name }]),
    ).values(),
    ...(router?.State === 'running' ? [{ id: router.Id, workload: ROUTER }] : []),
  ];
  const stopTrace =
    traceDrops && traceSources.length
      ? await followDrops(docker, traceSources, (drop) => {
          const w = waiting.get(key(drop.srcPort, drop.port));
          if (w && Object.values(w.src.addresses).includes(drop.srcAddress)) w.settle(drop);
        })
      : () => undefined;

  try {
    const results = await Promise.all(
      perSource.map(async ({ src, targets, tcp }) => {
        if (tcp.length === 0) return targets.map((t) => t.cell);
        const args = ['sh', '-c', PROBE_SCRIPT, 'probe', String(timeoutSeconds)];
        for (const t of tcp) args.push(t.cell.address, String(t.cell.port.port), String(t.sport));
        const pending = new Set(tcp);
        const done = new AbortController();
        const began = performance.now();
        const settled = (t: Target) => {
          pending.delete(t);
          waiting.delete(key(t.sport, t.cell.port.port));
          if (pending.size === 0) done.abort();
        };
        for (const t of tcp)
          waiting.set(key(t.sport, t.cell.port.port), {
            src,
            target: t,
            settle: (drop) => {
              if (!pending.has(t)) return;
              Object.assign(t.cell, {
                observed: 'timeout',
                evidence: {
                  ruleId: drop.ruleId,
                  seenBy: drop.seenBy,
                  direction: drop.direction,
                  afterMs: Math.round(drop.at - began),
                },
              });
              settled(t);
            },
          });
        const bySport = new Map(tcp.map((t) => [String(t.sport), t]));
        const onLine = (line: string) => {
          const [code, address, port, sport, ...message] = line.split(' ');
          const t = bySport.get(sport ?? '');
          if (!t || !pending.has(t) || address !== t.cell.address || port !== String(t.cell.port.port))
            return;
          t.cell.observed = classify(Number(code), message.join(' '));
          if (t.cell.observed === 'error') t.cell.detail = message.join(' ').trim();
          settled(t);
        };
        try {
          if (src.holder)
            await execLines(docker, src.holder, args, onLine, {
              timeoutMs: (timeoutSeconds + 10) * 1000,
              signal: done.signal,
            });
          else {
            const { output } = await runToCompletion(
              docker,
              {
                Image: baseImageName(),
                Cmd: args,
                Labels: labelsFor(project, 'probe', { workload: src.name, transient: true }),
                HostConfig: { NetworkMode: `container:${src.containerId}`, CapDrop: ['ALL'] },
              },
              { timeoutMs: (timeoutSeconds + 20) * 1000 },
            );
            for (const line of output.split('\n')) if (line) onLine(line);
          }
        } catch (err) {
          for (const t of pending)
            Object.assign(t.cell, { observed: 'error', match: false, detail: (err as Error).message });
          for (const t of [...pending]) settled(t);
          return targets.map((t) => t.cell);
        }
        for (const t of pending)
          Object.assign(t.cell, { observed: 'error', detail: 'no answer from the probe' });
        for (const t of tcp) t.cell.match = t.cell.observed === t.cell.expected;
        return targets.map((t) => t.cell);
      }),
    );
    const cells = results.flat();
    return {
      cells,
      mismatches: cells.filter((c) => !c.match).length,
      durationMs: Math.round(performance.now() - start),
    };
  } finally {
    stopTrace();
  }
}
