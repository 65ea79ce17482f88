/**
 * The running workload instances of a project, read from Docker by their labels (see
 * topology/workload.ts). Nothing here knows the shop: any labeled container is a workload.
 */
import type Docker from 'dockerode';
import { LABEL } from '../engine/labels';
import { engineIsPodman, resolversOf, withNetworkModes } from '../engine/podman';
import { HOLDER_LABEL } from './sidecar';
import type { WorkloadInstance } from '../topology/workload';
import { workloadFromLabels } from '../topology/workload';

export async function listInstances(docker: Docker, project: string): Promise<WorkloadInstance[]> {
  const [containers, holders, podman] = await Promise.all([
    docker
      .listContainers({
        filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=workload`], status: ['running'] },
      })
      .then((list) => withNetworkModes(docker, list)),
    docker.listContainers({
      filters: { label: [`${LABEL.project}=${project}`, HOLDER_LABEL], status: ['running'] },
    }),
    engineIsPodman(docker),
  ]);
  const holderById = new Map(holders.map((h) => [h.Id, h]));
  const instances: WorkloadInstance[] = [];
  for (const c of containers) {
    const workload = workloadFromLabels(c.Labels ?? {});
    if (!workload) continue;
    // A pod's app has its holder's network: no holder running, no network (and no instance).
    const mode = c.HostConfig?.NetworkMode ?? '';
    const holder = mode.startsWith('container:')
      ? holderById.get(mode.slice('container:'.length))
      : undefined;
    if (mode.startsWith('container:') && !holder) continue;
    const networks = (holder ?? c).NetworkSettings?.Networks ?? {};
    const addresses: Record<string, string> = {};
    for (const [network, settings] of Object.entries(networks))
      if (settings.IPAddress) addresses[network] = settings.IPAddress;
    const resolvers = resolversOf(podman, networks);
    instances.push({
      ...workload,
      containerId: c.Id,
      containerName: (c.Names[0] ?? c.Id).replace(/^\//, ''),
      addresses,
      ...(holder ? { holder: holder.Id } : {}),
      ...(resolvers.length ? { resolvers } : {}),
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
