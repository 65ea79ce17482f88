/**
 * Per-rule counters: every rule of our tables has a `counter`, read with
 * `nft -j list table inet microlab` in each sidecar and summed per rule id.
 */
import type Docker from 'dockerode';
import { parseRuleComment, TABLE } from './compile';
import { execIn, listSidecars } from './sidecar';

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

/** Reads the counters out of `nft -j list table` output. */
export function parseCounters(json: string): { ingress: RuleCounter[]; egress: RuleCounter[] } {
  const chains = { ingress: [] as RuleCounter[], egress: [] as RuleCounter[] };
  const parsed = JSON.parse(json) as { nftables?: NftRule[] };
  for (const item of parsed.nftables ?? []) {
    const rule = item.rule;
    if (!rule || (rule.chain !== 'ingress' && rule.chain !== 'egress') || !rule.comment) continue;
    const comment = parseRuleComment(rule.comment);
    if (!comment) continue;
    const counter = rule.expr?.find((e) => 'counter' in e)?.counter as
      { packets?: number; bytes?: number } | undefined;
    const list = chains[rule.chain];
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

export async function readCounters(docker: Docker, project: string): Promise<CountersReport> {
  const sidecars = (await listSidecars(docker, project)).filter((s) => s.running);
  const workloads = await Promise.all(
    sidecars.map(async (s): Promise<WorkloadCounters> => {
      const base = { workload: s.workload, sidecar: s.name };
      try {
        const result = await execIn(docker, s.id, ['nft', '-j', 'list', 'table', 'inet', TABLE]);
        if (result.exitCode !== 0)
          return { ...base, chains: { ingress: [], egress: [] }, error: result.output.trim() };
        return { ...base, chains: parseCounters(result.output) };
      } catch (err) {
        return { ...base, chains: { ingress: [], egress: [] }, error: (err as Error).message };
      }
    }),
  );
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
