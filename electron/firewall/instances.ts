/**
 * The running workload instances of a project, read from Docker by their labels (see
 * topology/workload.ts). Nothing here knows the shop: any labeled container is a workload.
 */
import type Docker from 'dockerode';
import { LABEL } from '../engine/labels';
import type { WorkloadInstance } from '../topology/workload';
import { workloadFromLabels } from '../topology/workload';

export async function listInstances(docker: Docker, project: string): Promise<WorkloadInstance[]> {
  const containers = await docker.listContainers({
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=workload`], status: ['running'] },
  });
  const instances: WorkloadInstance[] = [];
  for (const c of containers) {
    const workload = workloadFromLabels(c.Labels ?? {});
    if (!workload) continue;
    const addresses: Record<string, string> = {};
    for (const [network, settings] of Object.entries(c.NetworkSettings?.Networks ?? {}))
      if (settings.IPAddress) addresses[network] = settings.IPAddress;
    instances.push({
      ...workload,
      containerId: c.Id,
      containerName: (c.Names[0] ?? c.Id).replace(/^\//, ''),
      addresses,
    });
  }
  return instances.sort(
    (a, b) => a.name.localeCompare(b.name) || a.containerName.localeCompare(b.containerName),
  );
}

/** Address -> workload name, for naming the ends of a flow. */
export function addressBook(instances: WorkloadInstance[]): Map<string, string> {
  const book = new Map<string, string>();
  for (const i of instances) for (const a of Object.values(i.addresses)) book.set(a, i.name);
  return book;
}
