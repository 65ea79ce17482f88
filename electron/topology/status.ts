/**
 * `deploy:status`: each container of the deployment (state, health, addresses, memory,
 * version), its networks and its call graph.
 */
import type Docker from 'dockerode';
import type { ContainerInspectInfo } from 'dockerode';
import { LABEL } from '../engine/labels';
import type { Deployment } from './declarations';
import type { Target } from './running';
import {
  declarationOf,
  deploymentContainers,
  envOf,
  NETWORK_LABEL,
  networkName,
  networkSide,
  storefrontOf,
} from './running';
import { findBalancer } from './balancer';
import type {
  BalancerStatus,
  Call,
  DeploymentName,
  DeploymentStatus,
  WorkloadHealth,
  WorkloadStatus,
} from './types';
import { workloadFromLabels, WORKLOAD_LABEL } from './workload';

function healthOf(info: ContainerInspectInfo): WorkloadHealth {
  if (!info.State.Running) return 'unhealthy';
  const status = info.State.Health?.Status;
  return status === 'healthy' || status === 'unhealthy' || status === 'starting' ? status : 'none';
}

async function memoryOf(docker: Docker, id: string): Promise<number | undefined> {
  try {
    const stats = (await docker.getContainer(id).stats({ stream: false, 'one-shot': true })) as unknown as {
      memory_stats?: { usage?: number; stats?: Record<string, number> };
    };
    const m = stats.memory_stats;
    if (!m?.usage) return undefined;
    const inactive = m.stats?.total_inactive_file ?? m.stats?.inactive_file ?? 0;
    return Math.max(0, m.usage - inactive);
  } catch {
    return undefined;
  }
}

/** The monolith's load balancer, as `status` reports it (and the storefront it serves). */
async function balancerStatus(
  docker: Docker,
  id: string,
): Promise<
  { state: string; health: WorkloadHealth; storefront?: string; status: BalancerStatus } | undefined
> {
  const info = await docker
    .getContainer(id)
    .inspect()
    .catch(() => undefined);
  if (!info) return undefined;
  const health = healthOf(info);
  const storefront = storefrontOf(info);
  const memoryBytes = info.State.Running ? await memoryOf(docker, id) : undefined;
  return {
    state: info.State.Status,
    health,
    ...(storefront ? { storefront } : {}),
    status: {
      container: info.Name.replace(/^\//, ''),
      target: info.Config.Labels[LABEL.workload]?.replace(/-lb$/, '') ?? '',
      state: info.State.Status,
      health,
      ...(memoryBytes !== undefined ? { memoryBytes } : {}),
    },
  };
}

/** Who calls whom: a workload depends on exactly the workloads it calls. */
export function callGraph(d: Deployment): Call[] {
  return d.workloads.flatMap((w) =>
    w.dependsOn.map((dst) => ({
      src: w.name,
      dst,
      port: d.workloads.find((x) => x.name === dst)?.ports[0]?.port ?? 0,
    })),
  );
}

/** A workload's address on its lab network (the one that is not the edge). */
function labAddress(addresses: Record<string, string>, edge: string): string | undefined {
  return Object.entries(addresses).find(([network]) => network !== edge)?.[1];
}

export async function status({ docker, project }: Target): Promise<DeploymentStatus> {
  const [containers, lb] = await Promise.all([
    deploymentContainers(docker, project),
    findBalancer(docker, project),
  ]);
  const name = containers[0]?.Labels[WORKLOAD_LABEL.deployment] as DeploymentName | undefined;
  const d = declarationOf(containers[0]);
  const infos = await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .inspect()
        .catch(() => undefined),
    ),
  );
  const edge = networkName(project, 'edge');
  const workloads: WorkloadStatus[] = [];
  let storefront: string | undefined;
  await Promise.all(
    infos.map(async (info) => {
      if (!info) return;
      const workload = workloadFromLabels(info.Config.Labels ?? {});
      if (!workload) return;
      const spec = d?.workloads.find((w) => w.name === workload.name);
      const addresses: Record<string, string> = {};
      const net = await networkSide(docker, info);
      for (const [netName, endpoint] of Object.entries(net.NetworkSettings.Networks ?? {}))
        if (endpoint.IPAddress) addresses[netName] = endpoint.IPAddress;
      if (workload.name === d?.entry && info.State.Running) storefront = storefrontOf(net);
      const version = spec?.kind === 'app' ? envOf(info, 'SHOP_VERSION') : undefined;
      workloads.push({
        workload: workload.name,
        container: info.Name.replace(/^\//, ''),
        id: info.Id,
        ...(info.State.StartedAt ? { startedAt: info.State.StartedAt } : {}),
        image: info.Image,
        deployment: info.Config.Labels[WORKLOAD_LABEL.deployment] as DeploymentName,
        kind: spec?.kind ?? 'app',
        state: info.State.Status,
        health: healthOf(info),
        ...(labAddress(addresses, edge) ? { ip: labAddress(addresses, edge) } : {}),
        addresses,
        ...(info.State.Running ? { memoryBytes: await memoryOf(docker, info.Id) } : {}),
        ...(version ? { version } : {}),
        labels: workload.labels,
        scalable: spec?.scalable ?? false,
        upgradable: spec?.kind === 'app' && d?.layout !== 'perimeter',
        entry: workload.name === d?.entry,
      });
    }),
  );
  workloads.sort((a, b) => a.container.localeCompare(b.container, 'en', { numeric: true }));
  const balancer = lb ? await balancerStatus(docker, lb.Id) : undefined;
  if (balancer?.state === 'running') storefront = balancer.storefront;
  const networks = await docker.listNetworks({
    filters: { label: [`${LABEL.project}=${project}`, NETWORK_LABEL] },
  });
  return {
    project,
    ...(name ? { deployment: name } : {}),
    ...(d ? { layout: d.layout } : {}),
    calls: d ? callGraph(d) : [],
    ...(storefront ? { storefront } : {}),
    healthy:
      workloads.length > 0 &&
      workloads.every((w) => w.health === 'healthy') &&
      (!balancer || balancer.health === 'healthy'),
    workloads,
    ...(balancer ? { balancer: balancer.status } : {}),
    networks: networks
      .map((n) => ({
        name: n.Name,
        subnet: n.IPAM?.Config?.[0]?.Subnet ?? '',
        internal: Boolean(n.Internal),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}
