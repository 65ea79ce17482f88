/**
 * Cleanup that can be trusted: MicroLab finds what it made by its labels, and only that.
 * `down` removes a project's containers, networks and volumes (and, when asked, images);
 * `reconcile` runs at start and removes throwaways a crash may have left behind.
 */
import type Docker from 'dockerode';
import type { DownReport, LabeledResource } from '../api/contract';
import { IMAGE_LABEL, LABEL, projectFilter } from './labels';

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
      return docker.getContainer(r.id).remove({ force: true, v: true }) as Promise<void>;
    case 'network':
      return docker.getNetwork(r.id).remove() as Promise<void>;
    case 'volume':
      return docker.getVolume(r.id).remove() as Promise<void>;
    case 'image':
      return docker.getImage(r.id).remove({ force: true }) as Promise<void>;
  }
}

function isGone(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}

/** Removes in dependency order: containers first (they hold networks and volumes), images last. */
async function removeAll(docker: Docker, resources: LabeledResource[]): Promise<DownReport> {
  const report: DownReport = { removed: [], failed: [] };
  for (const kind of ['container', 'network', 'volume', 'image'] as const) {
    await Promise.all(
      resources
        .filter((r) => r.kind === kind)
        .map(async (r) => {
          try {
            await remove(docker, r);
            report.removed.push(r);
          } catch (err) {
            if (isGone(err)) report.removed.push(r);
            else report.failed.push({ resource: r, error: (err as Error).message });
          }
        }),
    );
  }
  return report;
}

export async function down(docker: Docker, project: string, { images = false } = {}): Promise<DownReport> {
  return removeAll(docker, await listResources(docker, project, { images }));
}

/** At start: throwaway containers left by a crash go. Everything else is reported as it is. */
export async function reconcile(docker: Docker, project: string): Promise<DownReport> {
  const transient = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.transient}=true`] },
  });
  return removeAll(
    docker,
    transient.map((c) => ({
      kind: 'container',
      id: c.Id,
      name: c.Names[0] ?? c.Id,
      ...labelsOf(c.Labels, project),
    })),
  );
}
