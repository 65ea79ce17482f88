/**
 * What runs in a project, read back from labels: the deployment and its declaration, its
 * containers, names and the perimeter layout in force; and the Target every operation takes.
 */
import type Docker from 'dockerode';
import type { ContainerInfo, ContainerInspectInfo } from 'dockerode';
import { ApiError } from '../errors';
import { LABEL } from '../engine/labels';
import type { Deployment } from './declarations';
import { APP_PORT, deployments } from './declarations';
import type { PerimeterLayout } from './perimeter';
import {
  LAYOUT_LABEL,
  perimeterDeclaration,
  perimeterLayout,
  segmentNetworkName,
  segmentsOfDeployment,
} from './perimeter';
import type { DeploymentName } from './types';
import type { NamespaceSpec, Workload } from './workload';
import { WORKLOAD_LABEL } from './workload';

/** Labels a MicroLab network carries besides the project's: which declared network it is. */
export const NETWORK_LABEL = 'io.microlab.network';

export { LAYOUT_LABEL } from './perimeter';

/**
 * The perimeter firewall as the topology sees it: one container, between the segment networks,
 * that `up` starts before any workload of a perimeter layout and `up`/`down` find and remove.
 * The firewall implements it (firewall/perimeter-router.ts); topology never imports the firewall.
 */
export interface PerimeterRouter {
  /** The router's container in the project, if any (running or not). */
  find(docker: Docker, project: string): Promise<ContainerInfo | undefined>;
  /** Creates and starts it on every segment network (`networkOf` gives a segment's network). */
  start(
    docker: Docker,
    project: string,
    layout: PerimeterLayout,
    networkOf: (segment: string) => string,
    workloads: Workload[],
  ): Promise<unknown>;
}

export interface Target {
  docker: Docker;
  project: string;
  /**
   * Called after new containers start and before they are waited on or take traffic: the
   * firewall loads their rules here (and tells their peers their addresses).
   */
  afterStart?: () => Promise<void>;
  /** The perimeter firewall, for the perimeter layout (without it, `up` refuses that layout). */
  perimeter?: PerimeterRouter;
  /**
   * Opens a new replica's network namespace as a pod (the firewall's holder: closed from its
   * first instant, its table loaded and confirmed) and returns the holder's id; the replica
   * then joins it (`NetworkMode: container:<id>`), so no process of it ever runs unfiltered.
   * Without it (or in the perimeter layout) a replica owns its namespace.
   */
  openNamespace?: (spec: NamespaceSpec) => Promise<string>;
  /**
   * The student's seed in the live class they are in (64 hex digits): a new deployment's
   * database password is derived from it (secret.ts); absent, it is random.
   */
  classSeed?: string;
}

/** The container whose network namespace a workload container uses: its pod's holder, or itself. */
export async function networkSide(docker: Docker, info: ContainerInspectInfo): Promise<ContainerInspectInfo> {
  const mode = info.HostConfig.NetworkMode ?? '';
  if (!mode.startsWith('container:')) return info;
  return docker
    .getContainer(mode.slice('container:'.length))
    .inspect()
    .catch(() => info);
}

/** The id of the holder whose namespace a workload container joined, if any. */
export async function holderOf(docker: Docker, id: string): Promise<string | undefined> {
  const info = await docker
    .getContainer(id)
    .inspect()
    .catch(() => undefined);
  const mode = info?.HostConfig.NetworkMode ?? '';
  return mode.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

export const networkName = (project: string, name: string) => `${project}-${name}`;

export const containerName = (project: string, workload: string, replica: number) =>
  `${project}-${workload}-${replica}`;

export function replicaOf(
  container: ContainerInfo | ContainerInspectInfo,
  project: string,
  workload: string,
): number {
  const name = ('Names' in container ? container.Names[0] : container.Name)?.replace(/^\//, '') ?? '';
  const match = new RegExp(`^${project.replace(/[.]/g, '\\.')}-${workload}-(\\d+)$`).exec(name);
  return match ? Number(match[1]) : 0;
}

export async function deploymentContainers(docker: Docker, project: string): Promise<ContainerInfo[]> {
  return docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=workload`, WORKLOAD_LABEL.deployment] },
  });
}

/** The deployment running in the project, from its containers' labels. */
export async function currentDeployment(docker: Docker, project: string): Promise<Deployment | undefined> {
  const containers = await deploymentContainers(docker, project);
  return declarationOf(containers[0]);
}

/** The declaration a running container was started from (its deployment, in its layout). */
export function declarationOf(container: ContainerInfo | undefined): Deployment | undefined {
  const name = container?.Labels[WORKLOAD_LABEL.deployment] as DeploymentName | undefined;
  if (!name) return undefined;
  return container?.Labels[LAYOUT_LABEL] === 'perimeter'
    ? perimeterDeclaration(deployments[name])
    : deployments[name];
}

/**
 * The perimeter layout in force in the project (recomputed from the networks' subnets), when
 * its deployment runs in the perimeter layout. Whether the router runs is the firewall's to say.
 */
export async function perimeterInForce(
  docker: Docker,
  project: string,
): Promise<PerimeterLayout | undefined> {
  const d = await currentDeployment(docker, project);
  if (d?.layout !== 'perimeter') return undefined;
  return perimeterLayout(d, await segmentSubnets(docker, project, d));
}

export async function segmentSubnets(
  docker: Docker,
  project: string,
  d: Deployment,
): Promise<Record<string, string>> {
  const networks = await docker.listNetworks({
    filters: { label: [`${LABEL.project}=${project}`, NETWORK_LABEL] },
  });
  const subnets: Record<string, string> = {};
  for (const segment of segmentsOfDeployment(d).keys()) {
    const network = networks.find((n) => n.Name === networkName(project, segmentNetworkName(segment)));
    const subnet = network?.IPAM?.Config?.[0]?.Subnet;
    if (subnet) subnets[segment] = subnet;
  }
  return subnets;
}

export function requireDeployment(d: Deployment | undefined): Deployment {
  if (!d)
    throw new ApiError(
      'not-deployed',
      'no deployment is running',
      'Start one with `microlab up monolith` or `microlab up microservices`.',
    );
  return d;
}

export function envOf(info: ContainerInspectInfo, key: string): string | undefined {
  return info.Config.Env?.find((e) => e.startsWith(`${key}=`))?.slice(key.length + 1);
}

export function storefrontOf(info: ContainerInspectInfo): string | undefined {
  const binding = info.NetworkSettings.Ports?.[`${APP_PORT}/tcp`]?.[0];
  return binding?.HostPort ? `http://127.0.0.1:${binding.HostPort}/` : undefined;
}
