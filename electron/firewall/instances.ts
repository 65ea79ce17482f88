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

/**
 * The project's running containers, every role (workloads, holders, the agent, the router),
 * each with its `HostConfig.NetworkMode` (see withNetworkModes): one engine call that
 * `instancesOf` and the layout check read from.
 */
export async function listProject(docker: Docker, project: string): Promise<Docker.ContainerInfo[]> {
  return withNetworkModes(
    docker,
    await docker.listContainers({
      filters: { label: [`${LABEL.project}=${project}`], status: ['running'] },
    }),
  );
}

/**
 * The workload instances among `containers` (running, as `listProject` lists them): every
 * container with the role `workload` and a workload's labels; a pod's app takes its holder's
 * networks, and without its holder running it has no network (and is no instance). Sorted by
 * workload, then container name.
 */
export async function instancesOf(
  docker: Docker,
  containers: Docker.ContainerInfo[],
): Promise<WorkloadInstance[]> {
  const podman = await engineIsPodman(docker);
  const holderById = new Map(
    containers.filter((c) => c.Labels?.[HOLDER_LABEL] !== undefined).map((h) => [h.Id, h]),
  );
  const instances: WorkloadInstance[] = [];
  for (const c of containers) {
    if (c.Labels?.[LABEL.role] !== 'workload') continue;
    const workload = workloadFromLabels(c.Labels ?? {});
    if (!workload) continue;
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

/** The running workload instances of a project (see instancesOf). */
export async function listInstances(docker: Docker, project: string): Promise<WorkloadInstance[]> {
  return instancesOf(docker, await listProject(docker, project));
}

/** Address -> workload name, for naming the ends of a flow. */
export function addressBook(instances: WorkloadInstance[]): Map<string, string> {
  const book = new Map<string, string>();
  for (const i of instances) for (const a of Object.values(i.addresses)) book.set(a, i.name);
  return book;
}
