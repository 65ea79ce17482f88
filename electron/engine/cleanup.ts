/**
 * Cleanup that can be trusted: MicroLab finds what it made by its labels, and only that.
 * `down` removes a project's containers, networks and volumes (and, when asked, images);
 * `reconcile` runs at start and removes throwaways a crash may have left behind.
 */
import type Docker from 'dockerode';
import type { DownReport, LabeledResource } from './types';
import { IMAGE_LABEL, LABEL, projectFilter } from './labels';
import { withNetworkModes } from './podman';
import { isGone, removeContainer, removeNetwork } from './remove';

function labelsOf(labels: Record<string, string> | undefined, project: string) {
  return {
    project: labels?.[LABEL.project] ?? project,
    ...(labels?.[LABEL.role] ? { role: labels[LABEL.role] } : {}),
    ...(labels?.[LABEL.workload] ? { workload: labels[LABEL.workload] } : {}),
  };
}

/**
 * A project's labeled resources. `transient: false` leaves out throwaway containers (the
 * doctor's probes), which come and go on their own and are not "what MicroLab started".
 */
export async function listResources(
  docker: Docker,
  project: string,
  { images = true, transient = true } = {},
): Promise<LabeledResource[]> {
  const filters = projectFilter(project);
  const [allContainers, networks, volumes, imageList] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
    // Images carry labels of their own kind (see IMAGE_LABEL): containers cannot inherit ownership.
    images
      ? docker.listImages({ filters: { label: [`${IMAGE_LABEL.project}=${project}`] } })
      : Promise.resolve([]),
  ]);
  const containers = transient
    ? allContainers
    : allContainers.filter((c) => c.Labels?.[LABEL.transient] !== 'true');
  return [
    ...containers.map((c) => ({
      kind: 'container' as const,
      id: c.Id,
      name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
      state: c.State,
      ...labelsOf(c.Labels, project),
    })),
    ...networks.map((n) => ({
      kind: 'network' as const,
      id: n.Id,
      name: n.Name,
      ...labelsOf(n.Labels, project),
    })),
    ...(volumes.Volumes ?? []).map((v) => ({
      kind: 'volume' as const,
      id: v.Name,
      name: v.Name,
      ...labelsOf(v.Labels, project),
    })),
    ...imageList.map((i) => ({
      kind: 'image' as const,
      id: i.Id,
      name: i.RepoTags?.find((t) => t !== '<none>:<none>') ?? i.Id,
      project,
      ...(i.Labels?.[IMAGE_LABEL.role] ? { role: i.Labels[IMAGE_LABEL.role] } : {}),
    })),
  ];
}

async function remove(docker: Docker, r: LabeledResource): Promise<void> {
  switch (r.kind) {
    case 'container':
      // Waits out a removal someone else (the firewall agent) started, so the networks the
      // container holds are free for the next wave.
      return removeContainer(docker, r.id, { volumes: true });
    case 'network':
      // Frees an endpoint the engine still holds a moment after its container went.
      return removeNetwork(docker, r.id, r.project);
    case 'volume':
      return docker.getVolume(r.id).remove() as Promise<void>;
    case 'image':
      return docker.getImage(r.id).remove({ force: true }) as Promise<void>;
  }
}

/**
 * Why a network could not be removed, in MicroLab's words. Docker refuses to remove a network
 * with containers still attached (HTTP 403, "has active endpoints"); when those containers are
 * not the project's (someone attached one by hand: `docker run --network ...`), this names each
 * and says how to free the network. Other errors pass through with Docker's message.
 *
 * Returns `{ error, hint? }` for DownReport.failed.
 */
export async function networkRemovalFailure(
  docker: Docker,
  network: { id: string; name: string },
  project: string,
  err: unknown,
): Promise<{ error: string; hint?: string }> {
  const message = (err as Error).message;
  if (!/active endpoints/i.test(message)) return { error: message };
  const attached = await docker
    .listContainers({ all: true, filters: { network: [network.id] } })
    .catch(() => []);
  const name = (c: Docker.ContainerInfo) => (c.Names[0] ?? c.Id.slice(0, 12)).replace(/^\//, '');
  const foreign = attached.filter((c) => c.Labels?.[LABEL.project] !== project).map(name);
  const ours = attached.filter((c) => c.Labels?.[LABEL.project] === project).map(name);
  const list = (names: string[]) => names.join(', ');
  if (foreign.length === 0)
    return {
      error: `it is still in use${ours.length ? ` by ${list(ours)}, which could not be removed` : ''}`,
      hint: 'Run `microlab down` again; if it stays, `docker ps -a` shows what holds it.',
    };
  return {
    error: `it is still in use by ${foreign.length === 1 ? 'container' : 'containers'} ${list(foreign)}, which MicroLab did not start, so it leaves ${foreign.length === 1 ? 'it' : 'them'} alone`,
    hint: `Disconnect ${foreign.length === 1 ? 'it' : 'them'} (${foreign
      .map((f) => `\`docker network disconnect ${network.name} ${f}\``)
      .join(
        ', ',
      )}) or remove ${foreign.length === 1 ? 'it' : 'them'} (\`docker rm -f ${foreign.join(' ')}\`), then run \`microlab down\` again.`,
  };
}

/**
 * Removes in dependency order: containers that joined another's network namespace first (a
 * firewall sidecar joins its workload's, a pod's app its holder's; Podman refuses to remove a
 * container others depend on), then the other containers (they hold networks and volumes),
 * images last.
 */
async function removeAll(docker: Docker, project: string, resources: LabeledResource[]): Promise<DownReport> {
  const report: DownReport = { removed: [], failed: [] };
  const joinedIds = new Set(
    resources.some((r) => r.kind === 'container')
      ? (
          await withNetworkModes(
            docker,
            await docker.listContainers({ all: true, filters: projectFilter(project) }),
          )
        )
          .filter((c) => c.HostConfig?.NetworkMode?.startsWith('container:'))
          .map((c) => c.Id)
      : [],
  );
  const joined = (r: LabeledResource) => r.kind === 'container' && joinedIds.has(r.id);
  const waves: ((r: LabeledResource) => boolean)[] = [
    joined,
    ...(['container', 'network', 'volume', 'image'] as const).map(
      (kind) => (r: LabeledResource) => r.kind === kind && !joined(r),
    ),
  ];
  for (const wave of waves) {
    await Promise.all(
      resources.filter(wave).map(async (r) => {
        try {
          await remove(docker, r);
          report.removed.push(r);
        } catch (err) {
          if (isGone(err)) report.removed.push(r);
          else if (r.kind === 'network')
            report.failed.push({ resource: r, ...(await networkRemovalFailure(docker, r, project, err)) });
          else report.failed.push({ resource: r, error: (err as Error).message });
        }
      }),
    );
  }
  return report;
}

export async function down(docker: Docker, project: string, { images = false } = {}): Promise<DownReport> {
  return removeAll(docker, project, await listResources(docker, project, { images }));
}

/** At start: throwaway containers left by a crash go. Everything else is reported as it is. */
export async function reconcile(docker: Docker, project: string): Promise<DownReport> {
  const transient = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.transient}=true`] },
  });
  return removeAll(
    docker,
    project,
    transient.map((c) => ({
      kind: 'container',
      id: c.Id,
      name: c.Names[0] ?? c.Id,
      ...labelsOf(c.Labels, project),
    })),
  );
}
