/**
 * Conflicts and networks: the storefront's port, the lab subnets (a free /24 of the pool per
 * declared network), and creating and removing the deployment's networks.
 */
import net from 'node:net';
import type Docker from 'dockerode';
import { ApiError } from '../errors';
import { LABEL, labelsFor } from '../engine/labels';
import { removeNetwork } from '../engine/remove';
import type { TakenRange } from '../engine/subnets';
import { fullPoolHint, planSubnets, subnetPool, takenRanges } from '../engine/subnets';
import type { Deployment } from './declarations';
import { NETWORK_LABEL, networkName } from './running';

/** Whether a TCP port on 127.0.0.1 is free on this machine. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Throws `port-in-use` when `port` on 127.0.0.1 is published by a container or held by another
 * program. With `leaving`, a container of that project holding the port is no obstacle: it is
 * about to go (a deployment being replaced), and the port with it.
 */
export async function checkPort(docker: Docker, port: number, leaving?: string): Promise<void> {
  if (port === 0) return;
  const running = await docker.listContainers();
  const holder = running.find((c) => c.Ports.some((p) => p.PublicPort === port));
  if (holder && leaving !== undefined && holder.Labels?.[LABEL.project] === leaving) return;
  if (holder) {
    throw new ApiError(
      'port-in-use',
      `port ${port} on 127.0.0.1 is already published by container ${holder.Names[0]?.replace(/^\//, '')}`,
      `Stop that container, or choose another port: \`microlab up <deployment> --port ${port + 1}\`.`,
    );
  }
  if (!(await portFree(port))) {
    throw new ApiError(
      'port-in-use',
      `port ${port} on 127.0.0.1 is in use by another program on this machine`,
      `Stop that program, or choose another port: \`microlab up <deployment> --port ${port + 1}\`.`,
    );
  }
}

/** The first free network of the pool (engine/subnets.ts's planner, which the doctor uses too). */
export function pickSubnet(pool: string, taken: TakenRange[]): string | undefined {
  return planSubnets(pool, taken).next;
}

/** What holds addresses on this host: Docker's networks and the host's routes. */
export const takenSubnets = takenRanges;

export async function ensureNetworks(docker: Docker, project: string, d: Deployment): Promise<void> {
  for (const spec of d.networks) {
    const name = networkName(project, spec.name);
    const existing = (await docker.listNetworks({ filters: { name: [name] } })).find((n) => n.Name === name);
    if (existing) {
      if (existing.Labels?.[LABEL.project] !== project) {
        throw new ApiError(
          'network-conflict',
          `a Docker network named ${name} exists and MicroLab did not create it`,
          `Remove it (\`docker network rm ${name}\`) or use another project name (MICROLAB_PROJECT).`,
        );
      }
      continue;
    }
    const pool = subnetPool();
    for (let attempt = 0; ; attempt++) {
      const plan = planSubnets(pool, await takenRanges(docker));
      const subnet = plan.next;
      if (!subnet) {
        throw new ApiError(
          'subnet-conflict',
          `no free /24 left in the lab subnet pool ${plan.pool} for network ${name} (taken: ${plan.taken
            .map((t) => `${t.cidr} by ${t.by}`)
            .join(', ')})`,
          fullPoolHint(plan),
        );
      }
      try {
        await docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          Internal: spec.internal,
          CheckDuplicate: true,
          IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
          Options: spec.internal ? {} : { 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
          Labels: { ...labelsFor(project, 'network'), [NETWORK_LABEL]: spec.name },
        });
        break;
      } catch (err) {
        // Another project took the same subnet a moment ago: pick again.
        if (attempt < 3 && /overlap/i.test((err as Error).message)) continue;
        throw err;
      }
    }
  }
}

/** Removes the project's deployment networks that `unwanted` names (best effort: one still in use stays). */
export async function removeNetworks(
  docker: Docker,
  project: string,
  unwanted: (name: string) => boolean,
): Promise<void> {
  const networks = await docker.listNetworks({
    filters: { label: [`${LABEL.project}=${project}`, NETWORK_LABEL] },
  });
  await Promise.all(
    networks
      .filter((n) => unwanted(n.Name))
      .map((n) => removeNetwork(docker, n.Id, project).catch(() => undefined)),
  );
}
