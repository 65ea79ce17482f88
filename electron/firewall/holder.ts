/**
 * Namespace holders: Kubernetes' pause pattern, so a workload is never a moment without its
 * table. A replica is a pod of two containers:
 *
 *   holder  `<replica>-fw`, from our base image, with NET_ADMIN: it owns the network
 *           namespace (the networks, addresses, DNS aliases, published port), loads a closed
 *           table (loopback and the engine's resolver only) as its very first step, and then
 *           runs the firewall sidecar's main process (trace monitor, table loader)
 *   app     the workload itself, created with `NetworkMode: container:<holder>` only after
 *           its own table is loaded and confirmed; unprivileged, unaware
 *
 * So the first packet of any process of the workload meets its table; `docker restart` of the
 * app keeps the holder's namespace and table; a holder that restarts (engine restart, a killed
 * holder) comes back closed, and its app, cut off meanwhile (its old namespace has no
 * interfaces left), is restarted into it once its table is back (`restartJoined`).
 *
 * Facts (Docker 20.10, verified here): a container joined to another's namespace keeps
 * running, with only `lo`, when that other dies; starting it fails while the owner is not
 * running ("cannot join network of a non running container"); `docker kill` counts as a
 * manual stop, so a restart policy does not bring a killed holder back (the agent does).
 */
import type Docker from 'dockerode';
import { baseImageName } from '../engine/images';
import { LABEL, labelsFor } from '../engine/labels';
import { engineIsPodman, resolversOf, withNetworkModes } from '../engine/podman';
import { removeContainer } from '../engine/remove';
import type { NamespaceSpec } from '../topology/workload';
import { workloadLabels } from '../topology/workload';
import { closedTableText } from './compile';
import { FIREWALL_ROLE, HOLDER_LABEL, PODMAN_INPUT, sidecarMain } from './sidecar';

export interface Holder {
  id: string;
  name: string;
}

export function holderName(appName: string): string {
  return `${appName}-fw`.slice(0, 120);
}

/**
 * Creates and starts a pod's holder: its namespace holds the closed table before `start`
 * returns anything useful to anyone (the table is loaded before the sidecar's main loop).
 * A leftover holder of the same name goes first.
 */
export async function createHolder(
  docker: Docker,
  project: string,
  spec: NamespaceSpec,
  image = baseImageName(),
): Promise<Holder> {
  const name = holderName(spec.name);
  // A leftover of the same name goes first; if the agent is removing it already (its app just
  // went), this waits until the name is free.
  await removeContainer(docker, name);
  const [primary, ...others] = spec.networks;
  if (!primary) throw new Error(`the pod ${spec.name} joins no network`);
  // On Podman the resolver is outside the namespace (each network's gateway): the closed
  // table lets DNS reach it, as the compiled tables do.
  const podman = await engineIsPodman(docker);
  const resolvers = podman
    ? resolversOf(
        true,
        Object.fromEntries(
          await Promise.all(
            spec.networks.map(async (n) => {
              const info = (await docker.getNetwork(n.network).inspect()) as {
                IPAM?: { Config?: { Gateway?: string }[] };
              };
              return [n.network, { Gateway: info.IPAM?.Config?.find((c) => c.Gateway)?.Gateway }];
            }),
          ),
        ),
      )
    : [];
  const endpoint = (n: NamespaceSpec['networks'][number]) => ({
    Aliases: n.aliases,
    ...(n.address ? { IPAMConfig: { IPv4Address: n.address } } : {}),
  });
  const container = await docker.createContainer({
    name,
    Image: image,
    Hostname: spec.hostname.slice(0, 63),
    // The closed table first: if it does not load, the holder exits and no app can join it.
    Cmd: [
      'sh',
      '-c',
      `printf '%s\\n' "$MICROLAB_CLOSED_TABLE" | nft -f - || exit 70\n${podman ? `${PODMAN_INPUT}\n` : ''}${sidecarMain()}`,
    ],
    Env: [`MICROLAB_CLOSED_TABLE=${closedTableText(resolvers)}`],
    OpenStdin: true,
    StdinOnce: false,
    Labels: {
      ...labelsFor(project, FIREWALL_ROLE, { workload: spec.workload.name }),
      ...workloadLabels(spec.workload, spec.deployment),
      // The role stays the firewall's: what marks a workload is its app container.
      [LABEL.role]: FIREWALL_ROLE,
      [HOLDER_LABEL]: spec.name,
      ...spec.labels,
    },
    ExposedPorts: spec.publish ? { [`${spec.publish.port}/tcp`]: {} } : {},
    HostConfig: {
      NetworkMode: primary.network,
      CapDrop: ['ALL'],
      CapAdd: ['NET_ADMIN'],
      SecurityOpt: ['no-new-privileges'],
      LogConfig: { Type: 'json-file', Config: { 'max-size': '4m', 'max-file': '2' } },
      // An engine restart brings the holder back (closed); the agent brings the app back into it.
      RestartPolicy: { Name: 'always' },
      ...(spec.extraHosts?.length ? { ExtraHosts: spec.extraHosts } : {}),
      ...(spec.publish
        ? {
            PortBindings: {
              [`${spec.publish.port}/tcp`]: [
                { HostIp: '127.0.0.1', HostPort: spec.publish.hostPort ? String(spec.publish.hostPort) : '' },
              ],
            },
          }
        : {}),
    },
    NetworkingConfig: { EndpointsConfig: { [primary.network]: endpoint(primary) } },
  });
  for (const n of others)
    await docker.getNetwork(n.network).connect({ Container: container.id, EndpointConfig: endpoint(n) });
  await container.start();
  return { id: container.id, name };
}

/** The app containers that joined a holder's namespace (any state). */
export async function joinedTo(
  docker: Docker,
  project: string,
  holderId: string,
): Promise<Docker.ContainerInfo[]> {
  const apps = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=workload`] },
  });
  return (await withNetworkModes(docker, apps)).filter(
    (a) => a.HostConfig?.NetworkMode === `container:${holderId}`,
  );
}

/**
 * After a holder started again (its namespace is new, and its table was loaded): the apps of
 * its pod that ran in the old namespace, or died with it, start again in the new one. An app
 * stopped on purpose after the holder started stays stopped. Returns the names restarted.
 */
export async function restartJoined(docker: Docker, project: string, holderId: string): Promise<string[]> {
  const holder = await docker.getContainer(holderId).inspect();
  if (!holder.State.Running) return [];
  const since = Date.parse(holder.State.StartedAt);
  const restarted: string[] = [];
  for (const app of await joinedTo(docker, project, holderId)) {
    const info = await docker.getContainer(app.Id).inspect();
    const stale = info.State.Running
      ? Date.parse(info.State.StartedAt) < since
      : Date.parse(info.State.FinishedAt) < since && info.State.FinishedAt !== '0001-01-01T00:00:00Z';
    if (!stale) continue;
    await docker.getContainer(app.Id).restart({ t: 5 });
    restarted.push(info.Name.replace(/^\//, ''));
  }
  return restarted;
}

/**
 * A holder that died while its pod's app still exists (a killed sidecar) starts again:
 * the restart policy does not do it after `docker kill`. A holder being removed is left alone.
 */
export async function reviveHolder(docker: Docker, project: string, holderId: string): Promise<boolean> {
  const info = await docker
    .getContainer(holderId)
    .inspect()
    .catch(() => undefined);
  if (!info || info.State.Running || info.State.Dead || info.State.Status === 'removing') return false;
  if ((await joinedTo(docker, project, holderId)).length === 0) return false;
  try {
    await docker.getContainer(holderId).start();
    return true;
  } catch {
    return false;
  }
}

/**
 * Brings every pod of the project back to a whole (after an engine restart, or when a
 * watcher starts): holders that are down while their app exists start again; with
 * `restartApps` (once their tables are loaded), apps left in an old namespace restart into
 * their holder's current one. Returns the names of the containers started.
 */
export async function restorePods(
  docker: Docker,
  project: string,
  { restartApps = false } = {},
): Promise<string[]> {
  const holders = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.project}=${project}`, HOLDER_LABEL] },
  });
  const started: string[] = [];
  for (const h of holders) {
    if (h.State !== 'running') {
      if (await reviveHolder(docker, project, h.Id)) started.push(holderName(h.Labels[HOLDER_LABEL] ?? h.Id));
    } else if (restartApps) started.push(...(await restartJoined(docker, project, h.Id)));
  }
  return started;
}

/**
 * Removes the holders whose app is gone (removed by hand, or by a process that died half
 * way), once they are older than `minAgeMs` (a new pod's holder waits a moment for its app).
 * `gone`: an app just removed (its name, and the event's time in Unix seconds): its own
 * holder goes at once, unless it was created after that moment (a new pod of the same name).
 * Returns the names removed.
 */
export async function removeOrphanHolders(
  docker: Docker,
  project: string,
  { minAgeMs = 10_000, gone }: { minAgeMs?: number; gone?: { name: string; at: number } } = {},
): Promise<string[]> {
  const [holders, apps] = await Promise.all([
    docker.listContainers({ all: true, filters: { label: [`${LABEL.project}=${project}`, HOLDER_LABEL] } }),
    docker
      .listContainers({
        all: true,
        filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=workload`] },
      })
      .then((list) => withNetworkModes(docker, list)),
  ]);
  const joined = new Set(apps.map((a) => a.HostConfig?.NetworkMode ?? ''));
  const removed: string[] = [];
  for (const h of holders) {
    if (joined.has(`container:${h.Id}`)) continue;
    const itsAppWent = gone !== undefined && h.Labels?.[HOLDER_LABEL] === gone.name && h.Created <= gone.at;
    if (!itsAppWent && Date.now() - h.Created * 1000 < minAgeMs) continue;
    await docker
      .getContainer(h.Id)
      .remove({ force: true })
      .then(() => removed.push((h.Names[0] ?? h.Id).replace(/^\//, '')))
      .catch(() => undefined);
  }
  return removed;
}
