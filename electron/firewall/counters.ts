/**
 * Per-rule counters: every rule of our tables has a `counter`, read with
 * `nft -j list table inet microlab` in each sidecar and summed per rule id.
 */
import type Docker from 'dockerode';
import { parseRuleComment, TABLE } from './compile';
import { execIn } from '../engine/exec';
import { listSidecars } from './sidecar';
import { PERIMETER_TABLE } from './perimeter';
import { ROUTER } from '../topology/perimeter';

export interface RuleCounter {
  ruleId: string;
  action: string;
  packets: number;
  bytes: number;
}

export interface WorkloadCounters {
  workload: string;
  sidecar: string;
  chains: { ingress: RuleCounter[]; egress: RuleCounter[] };
  error?: string;
}

export interface CountersReport {
  /** Summed over every instance and both directions, by rule id. */
  rules: RuleCounter[];
  workloads: WorkloadCounters[];
}

interface NftRule {
  rule?: { chain?: string; comment?: string; expr?: Record<string, unknown>[] };
}

type Direction = 'ingress' | 'egress';
const WORKLOAD_CHAINS: Record<string, Direction> = { ingress: 'ingress', egress: 'egress' };
/** The perimeter router decides in its forward chain: counted as its ingress. */
const ROUTER_CHAINS: Record<string, Direction> = { forward: 'ingress' };

/** Reads the counters out of `nft -j list table` output; `chainsOf` maps nft chains to directions. */
export function parseCounters(
  json: string,
  chainsOf: Record<string, Direction> = WORKLOAD_CHAINS,
): { ingress: RuleCounter[]; egress: RuleCounter[] } {
  const chains = { ingress: [] as RuleCounter[], egress: [] as RuleCounter[] };
  const parsed = JSON.parse(json) as { nftables?: NftRule[] };
  for (const item of parsed.nftables ?? []) {
    const rule = item.rule;
    const direction = rule?.chain ? chainsOf[rule.chain] : undefined;
    if (!rule || !direction || !rule.comment) continue;
    const comment = parseRuleComment(rule.comment);
    if (!comment) continue;
    const counter = rule.expr?.find((e) => 'counter' in e)?.counter as
      { packets?: number; bytes?: number } | undefined;
    const list = chains[direction];
    const action =
      comment.action === 'builtin' ? 'builtin' : `${comment.action}${comment.audit ? ' (audit)' : ''}`;
    // A rule split per protocol appears more than once: one counter per rule id.
    const existing = list.find((r) => r.ruleId === comment.id);
    if (existing) {
      existing.packets += counter?.packets ?? 0;
      existing.bytes += counter?.bytes ?? 0;
    } else
      list.push({ ruleId: comment.id, action, packets: counter?.packets ?? 0, bytes: counter?.bytes ?? 0 });
  }
  return chains;
}

/** Every sidecar's counters and, in the perimeter layout, the router's (`router`). */
export async function readCounters(
  docker: Docker,
  project: string,
  router?: { id: string; name: string },
): Promise<CountersReport> {
  const read = async (
    workload: string,
    id: string,
    name: string,
    table: string[],
    chainsOf: Record<string, Direction>,
  ): Promise<WorkloadCounters> => {
    const base = { workload, sidecar: name };
    try {
      const result = await execIn(docker, id, ['nft', '-j', 'list', 'table', ...table]);
      if (result.exitCode !== 0)
        return { ...base, chains: { ingress: [], egress: [] }, error: result.output.trim() };
      return { ...base, chains: parseCounters(result.output, chainsOf) };
    } catch (err) {
      return { ...base, chains: { ingress: [], egress: [] }, error: (err as Error).message };
    }
  };
  const sidecars = (await listSidecars(docker, project)).filter((s) => s.running);
  const workloads = await Promise.all([
    ...sidecars.map((s) => read(s.workload, s.id, s.name, ['inet', TABLE], WORKLOAD_CHAINS)),
    ...(router ? [read(ROUTER, router.id, router.name, ['ip', PERIMETER_TABLE], ROUTER_CHAINS)] : []),
  ]);
  const totals = new Map<string, RuleCounter>();
  for (const w of workloads)
    for (const r of [...w.chains.ingress, ...w.chains.egress]) {
      const t = totals.get(r.ruleId);
      if (t) {
        t.packets += r.packets;
        t.bytes += r.bytes;
      } else totals.set(r.ruleId, { ...r });
    }
  return {
    rules: [...totals.values()].sort((a, b) => b.packets - a.packets || a.ruleId.localeCompare(b.ruleId)),
    workloads: workloads.sort(
      (a, b) => a.workload.localeCompare(b.workload) || a.sidecar.localeCompare(b.sidecar),
    ),
  };
}
