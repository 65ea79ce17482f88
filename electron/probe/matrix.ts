/**
 * The reachability matrix: from every workload to every instance of every other workload, and
 * to every other replica of its own (siblings are hosts of their own to the firewall), on each
 * port it exposes, what the evaluator expects next to what a real connection attempt
 * observes. The attempt runs inside the source's network namespace, from its firewall
 * sidecar (or, without one, a throwaway container in the same namespace), so the source's
 * egress rules and the destination's ingress rules both apply, and app images need no tools.
 *
 * One exec per source runs all of its probes in parallel with a short timeout.
 */
import type Docker from 'dockerode';
import { performance } from 'node:perf_hooks';
import { runToCompletion } from '../engine/containers';
import { baseImageName } from '../engine/images';
import { labelsFor } from '../engine/labels';
import { decide, modeOf, uniqueWorkloads, verdictOf } from '../firewall/evaluate';
import type { Verdict } from '../firewall/evaluate';
import { listInstances } from '../firewall/instances';
import type { Policy } from '../firewall/policy';
import { execIn } from '../engine/exec';
import { listSidecars } from '../firewall/sidecar';
import type { PortSpec, WorkloadInstance } from '../topology/workload';

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
 * Probes "ADDRESS PORT" pairs in parallel; prints "EXIT ADDRESS PORT MESSAGE" lines. A whole
 * number of seconds is nc's own connect timeout (`-w`, which takes whole seconds only); a
 * fractional one bounds each attempt with coreutils' `timeout` (which also counts nc's start,
 * so it is less forgiving on a busy machine), and an attempt it ends reads "timed out".
 */
const SCRIPT = `t=$1; shift
while [ $# -ge 2 ]; do
  (case $t in *.*) out=$(timeout "$t" nc -z -v -w 10 "$1" "$2" 2>&1);; *) out=$(nc -z -v -w "$t" "$1" "$2" 2>&1);; esac; code=$?; [ "$code" = 124 ] && out="$out timed out"; printf '%s %s %s %s\\n' "$code" "$1" "$2" "$(printf '%s' "$out" | tr '\\n' ' ')") &
  shift 2
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
  }: {
    timeoutSeconds?: number;
    plan?: (policy: Policy, instances: WorkloadInstance[]) => ProbePlan;
    /** Probe from these workloads only (by name); every workload when absent. */
    sources?: string[];
  } = {},
): Promise<ProbeReport> {
  const start = performance.now();
  const effective = policy ?? NO_POLICY;
  const [instances, sidecars] = await Promise.all([
    listInstances(docker, project),
    listSidecars(docker, project),
  ]);
  const workloads = uniqueWorkloads(instances);
  const plan = makePlan(effective, instances);
  const sources = workloads
    .filter((w) => !only || only.includes(w.name))
    .map((w) => instances.find((i) => i.name === w.name)!);

  const results = await Promise.all(
    sources.map(async (src) => {
      const targets: Target[] = [];
      for (const dst of instances) {
        if (dst.containerId === src.containerId) continue;
        const address = plan.address(src, dst);
        if (!address) continue;
        for (const port of dst.ports) {
          const { verdict, ruleId } = plan.decide(src, dst, port);
          targets.push({
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
      if (tcp.length === 0) return targets.map((t) => t.cell);
      const args = ['sh', '-c', SCRIPT, 'probe', String(timeoutSeconds)];
      for (const t of tcp) args.push(t.cell.address, String(t.cell.port.port));
      const sidecar = sidecars.find((s) => s.target === src.containerId && s.running);
      let output: string;
      try {
        output = sidecar
          ? (await execIn(docker, sidecar.id, args, { timeoutMs: (timeoutSeconds + 10) * 1000 })).output
          : (
              await runToCompletion(
                docker,
                {
                  Image: baseImageName(),
                  Cmd: args,
                  Labels: labelsFor(project, 'probe', { workload: src.name, transient: true }),
                  HostConfig: { NetworkMode: `container:${src.containerId}`, CapDrop: ['ALL'] },
                },
                { timeoutMs: (timeoutSeconds + 20) * 1000 },
              )
            ).output;
      } catch (err) {
        for (const t of tcp)
          Object.assign(t.cell, { observed: 'error', match: false, detail: (err as Error).message });
        return targets.map((t) => t.cell);
      }
      const lines = output.split('\n').filter(Boolean);
      for (const t of tcp) {
        const line = lines.find((l) => {
          const [, address, port] = l.split(' ');
          return address === t.cell.address && port === String(t.cell.port.port);
        });
        if (!line) {
          Object.assign(t.cell, { observed: 'error', detail: 'no answer from the probe' });
          continue;
        }
        const [code, , , ...message] = line.split(' ');
        t.cell.observed = classify(Number(code), message.join(' '));
        if (t.cell.observed === 'error') t.cell.detail = message.join(' ').trim();
      }
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
}
