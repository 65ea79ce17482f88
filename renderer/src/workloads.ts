/**
 * The running deployment as the views show it: containers grouped into workloads, in a stable
 * order (by tier, then by name), with what can be done to each.
 */
import type { DeploymentStatus, WorkloadHealth, WorkloadStatus } from '../../electron/api/contract';

export interface WorkloadGroup {
  name: string;
  kind: WorkloadStatus['kind'];
  replicas: WorkloadStatus[];
  labels: Record<string, string>;
  tier: string;
  /** The segment label the deployment gives it (a policy may group differently). */
  segment: string;
  health: WorkloadHealth;
  memoryBytes?: number;
  versions: string[];
  /** It serves the storefront (the services say so). */
  entry: boolean;
  /** What the services allow (`deploy:scale`, `deploy:upgrade`), as the status reports it. */
  scalable: boolean;
  upgradable: boolean;
}

/** Columns of the graph, left to right: who is called first. The neighbours come last in lists. */
const TIER_RANK: Record<string, number> = { web: 0, app: 1, api: 1, db: 2, ops: 3, analytics: 3 };

/** The shop's neighbours (the operator's jumpbox, the reporting job): callers from beside the shop. */
export function isNeighbour(g: { tier: string }): boolean {
  return g.tier === 'ops' || g.tier === 'analytics';
}

export function tierRank(tier: string): number {
  return TIER_RANK[tier] ?? 1;
}

const HEALTH_RANK: Record<WorkloadHealth, number> = { unhealthy: 0, starting: 1, none: 2, healthy: 3 };

export function groupWorkloads(status: DeploymentStatus | undefined): WorkloadGroup[] {
  if (!status) return [];
  const byName = new Map<string, WorkloadStatus[]>();
  for (const w of status.workloads) byName.set(w.workload, [...(byName.get(w.workload) ?? []), w]);
  const groups = [...byName.entries()].map(([name, replicas]): WorkloadGroup => {
    replicas.sort((a, b) => a.container.localeCompare(b.container, 'en', { numeric: true }));
    const first = replicas[0]!;
    const memory = replicas.map((r) => r.memoryBytes).filter((m): m is number => m !== undefined);
    return {
      name,
      kind: first.kind,
      replicas,
      labels: first.labels,
      tier: first.labels.tier ?? '',
      segment: first.labels.segment ?? '',
      health: replicas.map((r) => r.health).sort((a, b) => HEALTH_RANK[a] - HEALTH_RANK[b])[0]!,
      ...(memory.length ? { memoryBytes: memory.reduce((a, b) => a + b, 0) } : {}),
      versions: [...new Set(replicas.map((r) => r.version).filter((v): v is string => !!v))].sort(),
      entry: replicas.some((r) => r.entry),
      scalable: replicas.every((r) => r.scalable),
      upgradable: replicas.every((r) => r.upgradable),
    };
  });
  return groups.sort((a, b) => tierRank(a.tier) - tierRank(b.tier) || a.name.localeCompare(b.name));
}

/** "running", or "2 running, 1 exited". */
export function describeStates(replicas: WorkloadStatus[]): string {
  const counts = new Map<string, number>();
  for (const r of replicas) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  if (counts.size === 1) return replicas[0]!.state;
  return [...counts.entries()].map(([state, n]) => `${n} ${state}`).join(', ');
}
