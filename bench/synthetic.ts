/**
 * Synthetic workloads for the firewall's bench and its integration test: pods like every
 * product workload (a holder that owns the namespace and holds the table, closed from its
 * first step; see firewall/holder.ts), whose app is a base-image container listening on its
 * ports with nc, with no capabilities, labeled like the shop's workloads.
 */
import type Docker from 'dockerode';
import { baseImageName } from '../electron/engine/images';
import { labelsFor } from '../electron/engine/labels';
import type { Enforcer } from '../electron/firewall/enforcer';
import { openPodNamespace } from '../electron/firewall/pods';
import type { Policy } from '../electron/firewall/policy';
import type { Workload } from '../electron/topology/workload';
import { workloadLabels } from '../electron/topology/workload';

export interface SyntheticPod {
  /** The app container. */
  container: Docker.Container;
  /** Its holder's container id (the pod's firewall). */
  holder: string;
}

/**
 * Starts replica `replica` of `workload` as a pod on `network`, named `<project>-<workload>-<replica>`:
 * its holder loads the table `enforcer` compiles under `policy` (none: open) before the app
 * exists. The listeners start in the background: wait for them before probing.
 */
export async function startSyntheticPod(
  docker: Docker,
  project: string,
  enforcer: Enforcer,
  network: string,
  workload: Workload,
  replica: number,
  policy?: Policy,
): Promise<SyntheticPod> {
  const name = `${project}-${workload.name}-${replica}`;
  const holder = await openPodNamespace(
    docker,
    project,
    enforcer,
    {
      name,
      workload,
      deployment: 'synthetic',
      hostname: name,
      networks: [{ network, aliases: [workload.name] }],
    },
    policy,
  );
  const listen = workload.ports.map((p) => `nc -lk -p ${p.port} >/dev/null 2>&1 &`).join(' ');
  const container = await docker.createContainer({
    name,
    Image: baseImageName(),
    Cmd: ['sh', '-c', `${listen} wait`],
    Labels: {
      ...labelsFor(project, 'workload', { workload: workload.name }),
      ...workloadLabels(workload, 'synthetic'),
    },
    HostConfig: { NetworkMode: `container:${holder}`, CapDrop: ['ALL'] },
  });
  await container.start();
  return { container, holder };
}
