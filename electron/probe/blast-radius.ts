/**
 * The blast radius of a compromised workload: from that one workload, which workloads and
 * ports can be reached, as the evaluator expects *and* as probes from inside its network
 * namespace observe (the reachability matrix, restricted to one source), each with the rule
 * that decides it. Summed up as "jumpbox reaches 3 of 12 workloads (1 database)".
 *
 * Behind a perimeter the answer has the same shape: the perimeter's plan gives flows inside
 * a segment the rule `_same-segment` (no firewall sees them), and they count like any other.
 *
 * `blastRadius` is pure (probe cells in, summary out); `runBlastRadius` runs the probes.
 */
import type Docker from 'dockerode';
import { performance } from 'node:perf_hooks';
import type { Verdict } from '../firewall/evaluate';
import type { Policy } from '../firewall/policy';
import type { PortSpec, Workload, WorkloadInstance } from '../topology/workload';
import type { Observed, Outcome, ProbeCell, ProbePlan } from './matrix';
import { runProbe } from './matrix';

/**
 * How long a denied probe waits, in seconds, by default: the matrix's. Shorter ones (down to
 * 0.2 s) answer faster, but count the probe's own start too: on a busy machine an allowed
 * flow can then be reported as timed out (the answer says so: a mismatch).
 */
export const BLAST_TIMEOUT_SECONDS = 1;

/** The selector label that marks a database (`tier: db`). */
export const DATABASE_TIER = 'db';

/** From the source to one port of one other workload (its replicas taken together). */
export interface BlastFlow {
  workload: string;
  port: PortSpec;
  /** The destination carries `tier: db`. */
  database: boolean;
  /** The evaluator's verdict and the rule that decides it (`_same-segment` inside a perimeter segment). */
  verdict: Verdict;
  ruleId: string;
  expected: Outcome;
  /** What the probes saw: `connected` when any replica answered. */
  observed: Observed;
  /** Observed equals expected on every replica. */
  match: boolean;
  /** How many replicas were probed. */
  replicas: number;
}

/** Which workloads the source reaches, by one account (expected or observed). */
export interface BlastCount {
  /** The workloads reached on at least one port, by name, sorted. */
  reached: string[];
  /** How many of them are databases. */
  databases: number;
}

export interface BlastRadius {
  source: string;
  /** Every port of every other workload that serves one, reachable or not, by workload then port. */
  flows: BlastFlow[];
  /** M: the other workloads that serve a port (a workload that serves none, like the jumpbox, cannot be reached). */
  of: number;
  expected: BlastCount;
  observed: BlastCount;
  /** Flows whose observed outcome differs from the expected one. */
  mismatches: number;
  /** "jumpbox reaches 3 of 12 workloads (1 database)", from what was observed. */
  summary: string;
  durationMs: number;
}

const reached = (outcome: Observed) => outcome === 'connected';

function count(flows: BlastFlow[], outcome: (f: BlastFlow) => Observed): BlastCount {
  const names = [...new Set(flows.filter((f) => reached(outcome(f))).map((f) => f.workload))].sort();
  const databases = names.filter((n) => flows.find((f) => f.workload === n)?.database).length;
  return { reached: names, databases };
}

export function summaryLine(source: string, n: number, of: number, databases: number): string {
  return `${source} reaches ${n} of ${of} workload${of === 1 ? '' : 's'} (${databases} database${databases === 1 ? '' : 's'})`;
}

/**
 * Folds the probe cells from `source` (one per destination replica and port) into one flow per
 * workload and port, and counts what is reached. `workloads` gives the destinations' labels
 * (a database is `tier: db`). Cells from other sources are ignored.
 */
export function blastRadius(
  source: string,
  cells: ProbeCell[],
  workloads: Workload[],
  durationMs = 0,
): BlastRadius {
  const byKey = new Map<string, ProbeCell[]>();
  for (const c of cells) {
    if (c.src !== source || c.dst === source) continue;
    const key = `${c.dst}\u0000${c.port.port}/${c.port.protocol}`;
    byKey.set(key, [...(byKey.get(key) ?? []), c]);
  }
  const labelsOf = (name: string) => workloads.find((w) => w.name === name)?.labels ?? {};
  const flows: BlastFlow[] = [...byKey.values()].map((group) => {
    const first = group[0]!;
    const observed = group.some((c) => c.observed === 'connected') ? 'connected' : first.observed;
    return {
      workload: first.dst,
      port: first.port,
      database: labelsOf(first.dst).tier === DATABASE_TIER,
      verdict: first.verdict,
      ruleId: first.ruleId,
      expected: first.expected,
      observed,
      match: group.every((c) => c.match),
      replicas: group.length,
    };
  });
  flows.sort((a, b) => a.workload.localeCompare(b.workload) || a.port.port - b.port.port);
  const of = new Set(flows.map((f) => f.workload)).size;
  const observed = count(flows, (f) => f.observed);
  return {
    source,
    flows,
    of,
    expected: count(flows, (f) => f.expected),
    observed,
    mismatches: flows.filter((f) => !f.match).length,
    summary: summaryLine(source, observed.reached.length, of, observed.databases),
    durationMs,
  };
}

/**
 * Probes from `source` (a running workload's name) to every port of every other workload,
 * under `policy` (the one in force; undefined: none) and `plan` (the perimeter's, behind one).
 * A denied probe waits `timeoutSeconds` (default BLAST_TIMEOUT_SECONDS). The caller checks
 * that `source` runs.
 */
export async function runBlastRadius(
  docker: Docker,
  project: string,
  policy: Policy | undefined,
  source: string,
  options: {
    timeoutSeconds?: number;
    plan?: (policy: Policy, instances: WorkloadInstance[]) => ProbePlan;
    workloads: Workload[];
  },
): Promise<BlastRadius> {
  const start = performance.now();
  const report = await runProbe(docker, project, policy, {
    timeoutSeconds: options.timeoutSeconds ?? BLAST_TIMEOUT_SECONDS,
    ...(options.plan ? { plan: options.plan } : {}),
    sources: [source],
  });
  return blastRadius(source, report.cells, options.workloads, Math.round(performance.now() - start));
}
