/**
 * The monolith's load balancer: when the monolith runs more than one replica, a small proxy
 * (the shop image in SHOP_ROLE=balancer, labs/shop/src/balancer.ts) takes the storefront's
 * place in front of them: the published port on 127.0.0.1 and the `storefront` name on the
 * edge network. The replicas share the workload's DNS name (`shop`), as the microservices'
 * replicas do, and the proxy resolves it every second.
 *
 * The balancer is not a workload: like the browser and the load generator it stands on the
 * client side of the storefront, so policies see it as "any" (it has no table of its own and
 * is not in the reachability matrix). It sits on the edge network only, so nothing on the lab
 * network can use it as a way in. Labels: io.microlab.role=balancer, io.microlab.workload=
 * "<workload>-lb". Once started it stays until the deployment goes (`down`, or `up` of the
 * other shape), also when the monolith is scaled back to one replica.
 */
import type Docker from 'dockerode';
import type { ContainerInfo } from 'dockerode';
import { LABEL, labelsFor } from '../engine/labels';
import { removeContainer } from '../engine/remove';
import { shopImageName } from '../engine/shop-image';
import { APP_PORT, FRONT_DOOR_CPU_SHARES, STOREFRONT_ALIAS } from './declarations';
import type { WorkloadSpec } from './declarations';

export const BALANCER_ROLE = 'balancer';
/** What the balancer answers itself (the shop's balancer.ts). */
export const BALANCER_HEALTH_PATH = '/balancer/healthz';
const MEMORY_MB = 64;

export const balancerName = (project: string, workload: string) => `${project}-${workload}-lb`;

/** The project's balancer container, running or not. */
export async function findBalancer(docker: Docker, project: string): Promise<ContainerInfo | undefined> {
  const found = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=${BALANCER_ROLE}`] },
  });
  return found[0];
}

/**
 * Creates (does not start) the balancer in front of `spec`'s replicas, on `edgeNetwork`,
 * publishing `hostPort` on 127.0.0.1 (0: any free port).
 */
export async function createBalancer(
  docker: Docker,
  project: string,
  spec: WorkloadSpec,
  edgeNetwork: string,
  hostPort: number,
): Promise<Docker.Container> {
  const name = balancerName(project, spec.name);
  return docker.createContainer({
    name,
    Image: shopImageName(),
    Hostname: name.slice(0, 63),
    Env: ['SHOP_ROLE=balancer', `BALANCER_TARGET=http://${spec.name}:${APP_PORT}`, `PORT=${APP_PORT}`],
    Labels: labelsFor(project, BALANCER_ROLE, { workload: `${spec.name}-lb` }),
    ExposedPorts: { [`${APP_PORT}/tcp`]: {} },
    Healthcheck: {
      Test: [
        'CMD',
        'curl',
        '-fsS',
        '-o',
        '/dev/null',
        '-m',
        '2',
        `http://127.0.0.1:${APP_PORT}${BALANCER_HEALTH_PATH}`,
      ],
      Interval: 1000 * 1e6,
      Timeout: 2000 * 1e6,
      Retries: 3,
      StartPeriod: 10_000 * 1e6,
    },
    StopTimeout: 10,
    HostConfig: {
      NetworkMode: edgeNetwork,
      Memory: MEMORY_MB * 1024 * 1024,
      MemorySwap: MEMORY_MB * 1024 * 1024,
      NanoCpus: 1e9,
      CpuShares: FRONT_DOOR_CPU_SHARES,
      PidsLimit: 50,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PortBindings: {
        [`${APP_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: hostPort ? String(hostPort) : '' }],
      },
    },
    NetworkingConfig: { EndpointsConfig: { [edgeNetwork]: { Aliases: [STOREFRONT_ALIAS] } } },
  });
}

/** Removes the project's balancer, if any. */
export async function removeBalancer(docker: Docker, project: string): Promise<void> {
  const lb = await findBalancer(docker, project);
  if (lb) await removeContainer(docker, lb.Id);
}
