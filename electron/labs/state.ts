/**
 * Reading the real state a step's checks and measures need, through the API, once per check
 * run (a probe of the whole matrix takes about a second; several checks share it).
 */
import type { DeploymentStatus, LoadReport, PolicyShow, ProbeReport, CountersReport } from '../api/contract';
import type { LabClient } from './client';
import type { Snapshot } from './progress';

/** Lazily read, shared by every check and measure of one run. */
export class StateReader {
  private status?: Promise<DeploymentStatus>;
  private probe?: Promise<ProbeReport>;
  private policy?: Promise<PolicyShow>;
  private counters?: Promise<CountersReport>;

  constructor(readonly client: LabClient) {}

  deployment(): Promise<DeploymentStatus> {
    return (this.status ??= this.client.call('deploy:status', {}));
  }
  matrix(): Promise<ProbeReport> {
    return (this.probe ??= this.client.call('probe:run', {}));
  }
  policyShow(): Promise<PolicyShow> {
    return (this.policy ??= this.client.call('policy:show', {}));
  }
  counterReport(): Promise<CountersReport> {
    return (this.counters ??= this.client.call('firewall:counters', {}));
  }

  /**
   * Workloads reached from `src`, observed by probes from inside its namespace, out of `total`:
   * the other workloads that serve a port (as `microlab blast-radius` counts them).
   */
  async reach(src: string): Promise<{ reached: string[]; databases: string[]; total: number }> {
    const [probe, status] = await Promise.all([this.matrix(), this.deployment()]);
    const names = new Set(status.workloads.map((w) => w.workload));
    if (!names.has(src)) throw new Error(`no workload "${src}" is running`);
    const from = probe.cells.filter((c) => c.src === src && c.dst !== src);
    const reached = [...new Set(from.filter((c) => c.observed === 'connected').map((c) => c.dst))].sort();
    const kinds = new Map(status.workloads.map((w) => [w.workload, w.kind]));
    return {
      reached,
      databases: reached.filter((w) => kinds.get(w) === 'postgres'),
      total: new Set(from.map((c) => c.dst)).size,
    };
  }
}

/** Packets per rule id, summed over every workload (or the perimeter router). */
export function packetsByRule(report: CountersReport): Record<string, number> {
  return Object.fromEntries(report.rules.map((r) => [r.ruleId, r.packets]));
}

/**
 * Packets a rule counted since the snapshot. A policy applied since then reloads the tables and
 * starts the counters at zero; then the count so far is the answer.
 */
export function packetsSince(
  now: Record<string, number>,
  before: Record<string, number>,
  rule: string,
): number {
  const current = now[rule] ?? 0;
  const earlier = before[rule] ?? 0;
  return current >= earlier ? current - earlier : current;
}

/** Reads the state a step starts from. Parts that cannot be read (no deployment yet) stay empty. */
export async function takeSnapshot(client: LabClient): Promise<Snapshot> {
  const at = new Date().toISOString();
  const [status, show, counters] = await Promise.all([
    client.call('deploy:status', {}),
    client.call('policy:show', {}).catch(() => undefined),
    client.call('firewall:counters', {}).catch(() => undefined),
  ]);
  const replicas: Record<string, number> = {};
  const versions: Record<string, string> = {};
  for (const w of status.workloads) {
    replicas[w.workload] = (replicas[w.workload] ?? 0) + 1;
    if (w.version && !(w.workload in versions)) versions[w.workload] = w.version;
  }
  return {
    at,
    ...(status.deployment ? { deployment: status.deployment } : {}),
    ...(status.layout ? { layout: status.layout } : {}),
    replicas,
    versions,
    containers: status.workloads.map((w) => ({
      workload: w.workload,
      container: w.container,
      ...(w.id ? { id: w.id } : {}),
      ...(w.startedAt ? { startedAt: w.startedAt } : {}),
      ...(w.image ? { image: w.image } : {}),
    })),
    ...(show?.source
      ? {
          policy: {
            text: show.source.text,
            file: show.source.file,
            ...(show.source.mode ? { mode: show.source.mode } : {}),
          },
        }
      : {}),
    counters: counters ? packetsByRule(counters) : {},
  };
}

/** The figures of some endpoints of a load report (all of them when none named). */
export function endpointsOf(report: LoadReport, names?: string[], except?: string[]) {
  return report.endpoints.filter(
    (e) =>
      e.endpoint !== 'all' && (!names || names.includes(e.endpoint)) && !(except ?? []).includes(e.endpoint),
  );
}
