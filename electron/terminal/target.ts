/**
 * Which container a terminal opens, and as whom. Only containers MicroLab created for this
 * project can be opened: a workload instance (as the user its app runs as), the firewall
 * sidecar sharing that instance's network namespace, or the perimeter router (both as root,
 * with the NET_ADMIN capability the container was given, so `nft list ruleset` works). Behind
 * the perimeter a workload's firewall is the router: the one enforcement point of every
 * workload.
 */
import type Docker from 'dockerode';
import type { ContainerInspectInfo } from 'dockerode';
import { ApiError } from '../errors';
import { LABEL } from '../engine/labels';
import { LAYOUT_LABEL } from '../topology/perimeter';

/** A workload instance by workload name and replica number (1-based), or a container by name or id. */
export type TerminalTarget = { workload: string; replica?: number } | { container: string };

/** Open the workload's own shell, or its firewall's. */
export type TerminalRole = 'workload' | 'firewall';

/** The container a session runs in, resolved from a target. */
export interface ResolvedTarget {
  containerId: string;
  /** Docker's name of the container the shell runs in. */
  container: string;
  /** The workload it belongs to ("catalog"), or "router" for the perimeter router. */
  workload: string;
  /** The replica number (from the container's name), when it is a workload's replica. */
  replica?: number;
  role: TerminalRole;
  /** The user the shell runs as ("shop", "postgres", "root"). */
  user: string;
}

/** Roles of containers that are firewalls (see firewall/sidecar.ts, firewall/perimeter-router.ts). */
const FIREWALL_ROLES = new Set(['firewall', 'perimeter']);
/** On a sidecar: the id of the container whose namespace it shares (firewall/sidecar.ts). */
const SIDECAR_TARGET_LABEL = 'io.microlab.firewall.target';

const notFound = (err: unknown) => (err as { statusCode?: number }).statusCode === 404;

/**
 * Finds the container for `target` opened `as` a workload or firewall shell.
 * Throws ApiError `terminal-target` (no such workload, replica or container), `terminal-foreign`
 * (a container MicroLab did not create for this project), `terminal-stopped` (not running) or
 * `terminal-no-firewall` (the workload has no firewall container: a workload that owns its
 * namespace and has no policy applied).
 */
export async function resolveTarget(
  docker: Docker,
  project: string,
  target: TerminalTarget,
  as: TerminalRole,
): Promise<ResolvedTarget> {
  const info =
    'container' in target
      ? await byContainer(docker, target.container)
      : await byWorkload(docker, project, target);
  const labels = info.Config.Labels ?? {};
  const name = info.Name.replace(/^\//, '');
  const role = labels[LABEL.role] ?? '';
  if (labels[LABEL.project] !== project || (role !== 'workload' && !FIREWALL_ROLES.has(role))) {
    throw new ApiError(
      'terminal-foreign',
      `${name} was not created by MicroLab for project ${project}: only its workloads and their firewalls can be opened`,
      'Pick a workload from `microlab status`.',
    );
  }
  if (!info.State.Running) {
    throw new ApiError(
      'terminal-stopped',
      `${name} is not running (${info.State.Status})`,
      'Start the deployment again (`microlab up`), then open the terminal.',
    );
  }
  const workload = labels[LABEL.workload] ?? name;
  const replica = replicaNumber(name, project, workload);
  if (FIREWALL_ROLES.has(role)) return { ...firewallOf(info), workload };
  if (as === 'workload') {
    return {
      containerId: info.Id,
      container: name,
      workload,
      ...(replica ? { replica } : {}),
      role: 'workload',
      user: info.Config.User || 'root',
    };
  }
  const sidecar =
    (await sidecarOf(docker, project, info)) ??
    (labels[LAYOUT_LABEL] === 'perimeter' ? await routerOf(docker, project) : undefined);
  if (!sidecar) {
    throw new ApiError(
      'terminal-no-firewall',
      `${name} has no firewall sidecar: no policy is applied to it`,
      'Apply a policy (`microlab policy apply FILE` or the Firewall view), then open its firewall. Behind the perimeter, open the router.',
    );
  }
  return { ...firewallOf(sidecar), workload, ...(replica ? { replica } : {}) };
}

function firewallOf(info: ContainerInspectInfo): Omit<ResolvedTarget, 'workload'> {
  return { containerId: info.Id, container: info.Name.replace(/^\//, ''), role: 'firewall', user: 'root' };
}

function replicaNumber(name: string, project: string, workload: string): number | undefined {
  const prefix = `${project}-${workload}-`;
  if (!name.startsWith(prefix)) return undefined;
  const n = Number(name.slice(prefix.length));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

async function byContainer(docker: Docker, container: string): Promise<ContainerInspectInfo> {
  try {
    return await docker.getContainer(container).inspect();
  } catch (err) {
    if (notFound(err)) throw new ApiError('terminal-target', `no container ${JSON.stringify(container)}`);
    throw err;
  }
}

async function byWorkload(
  docker: Docker,
  project: string,
  { workload, replica }: { workload: string; replica?: number },
): Promise<ContainerInspectInfo> {
  const list = await docker.listContainers({
    all: true,
    filters: {
      label: [`${LABEL.project}=${project}`, `${LABEL.role}=workload`, `${LABEL.workload}=${workload}`],
    },
  });
  if (!list.length) {
    throw new ApiError(
      'terminal-target',
      `no workload ${JSON.stringify(workload)} is deployed in project ${project}`,
      'Start a deployment (`microlab up`) and pick a workload from `microlab status`.',
    );
  }
  const numbered = list
    .map((c) => ({ c, n: replicaNumber((c.Names[0] ?? '').replace(/^\//, ''), project, workload) ?? 0 }))
    .sort((a, b) => a.n - b.n);
  const chosen = replica === undefined ? numbered[0] : numbered.find((r) => r.n === replica);
  if (!chosen) {
    throw new ApiError(
      'terminal-target',
      `${workload} has no replica ${replica} (it has ${numbered.map((r) => r.n).join(', ')})`,
    );
  }
  try {
    return await docker.getContainer(chosen.c.Id).inspect();
  } catch (err) {
    if (notFound(err)) throw new ApiError('terminal-stopped', `${workload} replica ${replica ?? 1} is gone`);
    throw err;
  }
}

/**
 * Behind the perimeter, every workload's firewall is the one router (io.microlab.role=perimeter):
 * the running router of the project, if any.
 */
async function routerOf(docker: Docker, project: string): Promise<ContainerInspectInfo | undefined> {
  const [router] = await docker.listContainers({
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=perimeter`], status: ['running'] },
  });
  if (!router) return undefined;
  try {
    return await docker.getContainer(router.Id).inspect();
  } catch (err) {
    if (notFound(err)) return undefined;
    throw err;
  }
}

/**
 * The running firewall container in the instance's network namespace: its pod's holder (the
 * namespace's owner, when the instance joined one), else the sidecar whose target it is.
 */
async function sidecarOf(
  docker: Docker,
  project: string,
  instance: ContainerInspectInfo,
): Promise<ContainerInspectInfo | undefined> {
  const mode = instance.HostConfig.NetworkMode ?? '';
  const owners = new Set([instance.Id]);
  const holder = mode.startsWith('container:') ? mode.slice('container:'.length) : undefined;
  if (holder) owners.add(holder);
  const list = await docker.listContainers({
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=firewall`], status: ['running'] },
  });
  // A pod's holder is its firewall (it owns the namespace and loads the table); else a sidecar.
  const sidecar =
    list.find((c) => c.Id === holder) ?? list.find((c) => owners.has(c.Labels?.[SIDECAR_TARGET_LABEL] ?? ''));
  if (!sidecar) return undefined;
  try {
    return await docker.getContainer(sidecar.Id).inspect();
  } catch (err) {
    if (notFound(err)) return undefined;
    throw err;
  }
}
