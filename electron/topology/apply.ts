/**
 * The apply engine: a declaration (declarations.ts) becomes networks and containers, through
 * dockerode only, and the running state is read back from labels. Operations:
 *   up       create what is missing, start what is stopped, in dependency waves; wait healthy
 *   down     remove the deployment's containers and networks
 *   status   each container: state, health, address, memory
 *   scale    add or remove replicas of a service (they share its DNS name)
 *   upgrade  replace replicas one by one (rolling); the storefront's workload restarts instead
 *
 * A workload starts once the workloads it depends on are running; whether they answer is each
 * workload's own readiness check, which Docker's health check calls.
 */
import net from 'node:net';
import type Docker from 'dockerode';
import type { ContainerInfo, ContainerInspectInfo } from 'dockerode';
import type {
  Call,
  DeploymentName,
  Layout,
  DeploymentStatus,
  DownReport,
  LabeledResource,
  WorkloadHealth,
  WorkloadStatus,
} from '../api/contract';
import { ApiError } from '../api/errors';
import { networkRemovalFailure } from '../engine/cleanup';
import { LABEL, labelsFor } from '../engine/labels';
import { shopImageName } from '../engine/shop-image';
import { conflicts, formatCidr, hostRoutes, overlaps, parseCidr, subnetPool } from '../engine/subnets';
import type { TaskContext } from '../tasks';
import { throwIfAborted } from '../tasks';
import { findRouter, startRouter } from '../firewall/perimeter-router';
import type { Deployment, WorkloadSpec } from './declarations';
import { APP_PORT, deployments, startOrder, STOREFRONT_ALIAS } from './declarations';
import type { PerimeterLayout } from './perimeter';
import { perimeterDeclaration, perimeterLayout, segmentNetworkName, segmentsOfDeployment } from './perimeter';
import { WORKLOAD_LABEL, workloadFromLabels, workloadLabels } from './workload';

/** Labels a MicroLab network carries besides the project's: which declared network it is. */
export const NETWORK_LABEL = 'io.microlab.network';
/** On workload containers: the layout they were started in (flat or perimeter). */
export const LAYOUT_LABEL = 'io.microlab.layout';
const HEALTH_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_S = 10;

export interface Target {
  docker: Docker;
  project: string;
  /**
   * Called after new containers start and before they are waited on or take traffic: the
   * firewall loads their rules here (and tells their peers their addresses).
   */
  afterStart?: () => Promise<void>;
}

export const networkName = (project: string, name: string) => `${project}-${name}`;
export const containerName = (project: string, workload: string, replica: number) =>
  `${project}-${workload}-${replica}`;

function replicaOf(
  container: ContainerInfo | ContainerInspectInfo,
  project: string,
  workload: string,
): number {
  const name = ('Names' in container ? container.Names[0] : container.Name)?.replace(/^\//, '') ?? '';
  const match = new RegExp(`^${project.replace(/[.]/g, '\\.')}-${workload}-(\\d+)$`).exec(name);
  return match ? Number(match[1]) : 0;
}

const isGone = (err: unknown) => (err as { statusCode?: number }).statusCode === 404;

// ---------------------------------------------------------------------------------------
// Reading what runs

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
function declarationOf(container: ContainerInfo | undefined): Deployment | undefined {
  const name = container?.Labels[WORKLOAD_LABEL.deployment] as DeploymentName | undefined;
  if (!name) return undefined;
  return container?.Labels[LAYOUT_LABEL] === 'perimeter'
    ? perimeterDeclaration(deployments[name])
    : deployments[name];
}

/** The perimeter in force in the project: its router and its layout (recomputed from the networks' subnets). */
export async function currentPerimeter(
  docker: Docker,
  project: string,
): Promise<{ routerId: string; routerName: string; layout: PerimeterLayout } | undefined> {
  const [router, d] = await Promise.all([findRouter(docker, project), currentDeployment(docker, project)]);
  if (!router || router.State !== 'running' || d?.layout !== 'perimeter') return undefined;
  return {
    routerId: router.Id,
    routerName: router.Names[0]?.replace(/^\//, '') ?? router.Id,
    layout: perimeterLayout(d, await segmentSubnets(docker, project, d)),
  };
}

async function segmentSubnets(
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

function requireDeployment(d: Deployment | undefined): Deployment {
  if (!d)
    throw new ApiError(
      'not-deployed',
      'no deployment is running',
      'Start one with `microlab up monolith` or `microlab up microservices`.',
    );
  return d;
}

function healthOf(info: ContainerInspectInfo): WorkloadHealth {
  if (!info.State.Running) return 'unhealthy';
  const status = info.State.Health?.Status;
  return status === 'healthy' || status === 'unhealthy' || status === 'starting' ? status : 'none';
}

function envOf(info: ContainerInspectInfo, key: string): string | undefined {
  return info.Config.Env?.find((e) => e.startsWith(`${key}=`))?.slice(key.length + 1);
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

function storefrontOf(info: ContainerInspectInfo): string | undefined {
  const binding = info.NetworkSettings.Ports?.[`${APP_PORT}/tcp`]?.[0];
  return binding?.HostPort ? `http://127.0.0.1:${binding.HostPort}/` : undefined;
}

export async function status({ docker, project }: Target): Promise<DeploymentStatus> {
  const containers = await deploymentContainers(docker, project);
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
      for (const [netName, endpoint] of Object.entries(info.NetworkSettings.Networks ?? {}))
        if (endpoint.IPAddress) addresses[netName] = endpoint.IPAddress;
      if (workload.name === d?.entry && info.State.Running) storefront = storefrontOf(info);
      const version = spec?.kind === 'app' ? envOf(info, 'SHOP_VERSION') : undefined;
      workloads.push({
        workload: workload.name,
        container: info.Name.replace(/^\//, ''),
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
  const networks = await docker.listNetworks({
    filters: { label: [`${LABEL.project}=${project}`, NETWORK_LABEL] },
  });
  return {
    project,
    ...(name ? { deployment: name } : {}),
    ...(d ? { layout: d.layout } : {}),
    calls: d ? callGraph(d) : [],
    ...(storefront ? { storefront } : {}),
    healthy: workloads.length > 0 && workloads.every((w) => w.health === 'healthy'),
    workloads,
    networks: networks
      .map((n) => ({
        name: n.Name,
        subnet: n.IPAM?.Config?.[0]?.Subnet ?? '',
        internal: Boolean(n.Internal),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

// ---------------------------------------------------------------------------------------
// Conflicts: ports and subnets

/** Whether a TCP port on 127.0.0.1 is free on this machine. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function checkPort(docker: Docker, port: number): Promise<void> {
  if (port === 0) return;
  const running = await docker.listContainers();
  const holder = running.find((c) => c.Ports.some((p) => p.PublicPort === port));
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

/** The first /24 of the pool that overlaps no Docker network and no route of the host. */
export function pickSubnet(pool: string, taken: { cidr: string; by: string }[]): string | undefined {
  const poolCidr = parseCidr(pool);
  const bits = Math.max(24, poolCidr.bits);
  const count = 2 ** (bits - poolCidr.bits);
  const takenCidrs = taken.map((t) => parseCidr(t.cidr));
  for (let i = 0; i < count; i++) {
    const candidate = { base: (poolCidr.base + i * 2 ** (32 - bits)) >>> 0, bits };
    if (!takenCidrs.some((t) => overlaps(t, candidate))) return formatCidr(candidate);
  }
  return undefined;
}

export async function takenSubnets(docker: Docker): Promise<{ cidr: string; by: string }[]> {
  const networks = await docker.listNetworks();
  const taken = networks.flatMap((n) =>
    (n.IPAM?.Config ?? [])
      .filter((c) => c.Subnet && !c.Subnet.includes(':'))
      .map((c) => ({ cidr: c.Subnet!, by: `Docker network ${n.Name}` })),
  );
  const ours = taken.map((t) => t.cidr);
  const routes = conflicts(subnetPool(), hostRoutes(), ours).map((r) => ({ cidr: r.cidr, by: r.via }));
  return [...taken, ...routes];
}

async function ensureNetworks(docker: Docker, project: string, d: Deployment): Promise<void> {
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
      const taken = await takenSubnets(docker);
      const subnet = pickSubnet(pool, taken);
      if (!subnet) {
        throw new ApiError(
          'subnet-conflict',
          `no free /24 left in the lab subnet pool ${pool} for network ${name} (taken: ${taken
            .filter((t) => overlaps(parseCidr(t.cidr), parseCidr(pool)))
            .map((t) => `${t.cidr} by ${t.by}`)
            .join(', ')})`,
          'Run `microlab down` in projects you no longer use, or set MICROLAB_SUBNET_POOL to a free range such as 198.19.0.0/16.',
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

// ---------------------------------------------------------------------------------------
// Creating, starting and stopping containers

async function createReplica(
  { docker, project }: Target,
  d: Deployment,
  spec: WorkloadSpec,
  name: string,
  options: { version?: string; port: number },
): Promise<Docker.Container> {
  const env = { ...spec.env };
  if (options.version && spec.kind === 'app') env.SHOP_VERSION = options.version;
  const lab = spec.networks.find((n) => n !== 'edge')!;
  const primary = spec.publish !== undefined ? 'edge' : lab;
  const endpoint = (network: string) => ({
    Aliases: aliases(network),
    ...(spec.addresses?.[network] ? { IPAMConfig: { IPv4Address: spec.addresses[network] } } : {}),
  });
  const aliases = (network: string) => (network === 'edge' ? [STOREFRONT_ALIAS, spec.name] : [spec.name]);
  const h = spec.health;
  const container = await docker.createContainer({
    name,
    Image: shopImageName(),
    Hostname: name.slice(0, 63),
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    ...(spec.user ? { User: spec.user } : {}),
    ...(spec.command ? { Cmd: spec.command } : {}),
    Labels: {
      ...labelsFor(project, 'workload', { workload: spec.name }),
      ...workloadLabels({ name: spec.name, labels: spec.labels, ports: spec.ports }, d.name),
      [LAYOUT_LABEL]: d.layout,
    },
    ExposedPorts: Object.fromEntries(spec.ports.map((p) => [`${p.port}/${p.protocol}`, {}])),
    Healthcheck: {
      Test: h.test,
      Interval: h.intervalMs * 1e6,
      Timeout: h.timeoutMs * 1e6,
      Retries: h.retries,
      StartPeriod: h.startPeriodMs * 1e6,
    },
    StopTimeout: STOP_TIMEOUT_S,
    HostConfig: {
      NetworkMode: networkName(project, primary),
      Memory: spec.resources.memoryMb * 1024 * 1024,
      MemorySwap: spec.resources.memoryMb * 1024 * 1024,
      NanoCpus: Math.round(spec.resources.cpus * 1e9),
      PidsLimit: spec.resources.pids,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ShmSize: 64 * 1024 * 1024,
      ...(spec.extraHosts?.length ? { ExtraHosts: spec.extraHosts } : {}),
      ...(spec.publish !== undefined
        ? {
            PortBindings: {
              [`${spec.publish}/tcp`]: [
                { HostIp: '127.0.0.1', HostPort: options.port ? String(options.port) : '' },
              ],
            },
          }
        : {}),
    },
    NetworkingConfig: {
      EndpointsConfig: { [networkName(project, primary)]: endpoint(primary) },
    },
  });
  for (const network of spec.networks.filter((n) => n !== primary)) {
    await docker
      .getNetwork(networkName(project, network))
      .connect({ Container: container.id, EndpointConfig: endpoint(network) });
  }
  return container;
}

async function startContainer(container: Docker.Container): Promise<void> {
  try {
    await container.start();
  } catch (err) {
    // 304: already started.
    if ((err as { statusCode?: number }).statusCode !== 304) throw err;
  }
}

/** Stops gracefully (SIGTERM: the app drains), then removes. */
async function retire(docker: Docker, id: string): Promise<void> {
  const container = docker.getContainer(id);
  await container.stop({ t: STOP_TIMEOUT_S }).catch((err: unknown) => {
    const code = (err as { statusCode?: number }).statusCode;
    if (code !== 304 && code !== 404) throw err;
  });
  await container.remove({ force: true, v: true }).catch((err: unknown) => {
    if (!isGone(err)) throw err;
  });
}

async function lastLogs(docker: Docker, id: string): Promise<string> {
  try {
    const buffer = (await docker
      .getContainer(id)
      .logs({ stdout: true, stderr: true, tail: 5, follow: false })) as unknown as Buffer;
    let out = '';
    for (let offset = 0; offset + 8 <= buffer.length;) {
      const size = buffer.readUInt32BE(offset + 4);
      out += buffer.subarray(offset + 8, offset + 8 + size).toString('utf8');
      offset += 8 + size;
    }
    return out.trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '';
  }
}

/** Waits until every container is healthy; fails at once if one exits. */
async function waitHealthy(
  docker: Docker,
  ids: string[],
  signal: AbortSignal,
  onProgress?: (healthy: number, total: number) => void,
): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let reported = -1;
  for (;;) {
    throwIfAborted(signal);
    const infos = await Promise.all(ids.map((id) => docker.getContainer(id).inspect()));
    const dead = infos.find((i) => !i.State.Running);
    if (dead) {
      const logs = await lastLogs(docker, dead.Id);
      throw new ApiError(
        'workload-exited',
        `${dead.Name.replace(/^\//, '')} stopped (exit code ${dead.State.ExitCode})${logs ? `: ${logs}` : ''}`,
        'See its logs with `docker logs`; `microlab up` starts it again.',
      );
    }
    const healthy = infos.filter((i) => i.State.Health?.Status === 'healthy').length;
    if (healthy !== reported) onProgress?.(healthy, ids.length);
    reported = healthy;
    if (healthy === ids.length) return;
    if (Date.now() > deadline) {
      const slow = infos.filter((i) => i.State.Health?.Status !== 'healthy');
      const why = slow
        .map(
          (i) =>
            `${i.Name.replace(/^\//, '')}: ${i.State.Health?.Log?.at(-1)?.Output?.trim() ?? 'no check yet'}`,
        )
        .join('; ');
      throw new ApiError('unhealthy', `not healthy after ${HEALTH_TIMEOUT_MS / 1000}s: ${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The perimeter pins every workload to one address (its hosts entries elsewhere name it). */
function refuseInPerimeter(d: Deployment, what: string): void {
  if (d.layout !== 'perimeter') return;
  throw new ApiError(
    'perimeter-fixed',
    `in the perimeter layout a service cannot be ${what}: each workload has one fixed address that the other segments' hosts entries point at`,
    `Start the flat layout to scale and upgrade: \`microlab up ${d.name}\`.`,
  );
}

function specFor(d: Deployment, service: string): WorkloadSpec {
  const spec = d.workloads.find((w) => w.name === service);
  if (!spec) {
    throw new ApiError(
      'unknown-service',
      `the ${d.name} has no service ${JSON.stringify(service)}`,
      `Its services: ${d.workloads.map((w) => w.name).join(', ')}.`,
    );
  }
  return spec;
}

// ---------------------------------------------------------------------------------------
// The operations

export const UP_STEPS = 5;

export async function up(
  target: Target,
  name: DeploymentName,
  options: { port: number; layout?: Layout },
  ctx: TaskContext,
): Promise<string> {
  const { docker, project } = target;
  const declared =
    options.layout === 'perimeter' ? perimeterDeclaration(deployments[name]) : deployments[name];
  let d = declared;
  const say = (step: number, message: string) => ctx.progress({ step, message });

  say(1, 'checking the image, the port and the subnets');
  try {
    await docker.getImage(shopImageName()).inspect();
  } catch (err) {
    if (!isGone(err)) throw err;
    throw new ApiError(
      'images-missing',
      `${shopImageName()} is not present`,
      'Run `microlab images prepare` first.',
    );
  }
  let existing = await deploymentContainers(docker, project);
  const others = existing.filter(
    (c) =>
      c.Labels[WORKLOAD_LABEL.deployment] !== name || (c.Labels[LAYOUT_LABEL] ?? 'flat') !== declared.layout,
  );
  if (others.length) {
    say(1, `removing the ${others[0]!.Labels[WORKLOAD_LABEL.deployment]} deployment`);
    await Promise.all(others.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
    existing = existing.filter((c) => !others.includes(c));
    await removeRouter(docker, project);
    await removeSidecars(docker, project);
    await removeNetworks(
      docker,
      project,
      (network) => !declared.networks.some((n) => networkName(project, n.name) === network),
    );
  }
  const entryRunning = existing.some((c) => c.Labels[LABEL.workload] === d.entry && c.State === 'running');
  if (!entryRunning) await checkPort(docker, options.port);

  say(2, 'creating networks');
  await ensureNetworks(docker, project, d);
  if (d.layout === 'perimeter') {
    // Fixed addresses and hosts entries, then the router, before any workload starts.
    const layout = perimeterLayout(d, await segmentSubnets(docker, project, d));
    d = {
      ...d,
      workloads: d.workloads.map((w) => {
        const placed = layout.workloads.find((p) => p.name === w.name)!;
        return { ...w, addresses: { [placed.network]: placed.address }, extraHosts: placed.extraHosts };
      }),
    };
    if ((await findRouter(docker, project))?.State !== 'running') {
      say(2, 'starting the perimeter firewall');
      await removeRouter(docker, project);
      await startRouter(
        docker,
        project,
        layout,
        (segment) => networkName(project, segmentNetworkName(segment)),
        d.workloads,
      );
    }
  }

  // Create every missing container at once, then start them in dependency waves (a wave
  // only waits for the previous one to be running, not healthy: readiness is each app's own check).
  say(3, 'creating containers');
  const byWorkload = new Map<string, string[]>();
  await Promise.all(
    d.workloads.map(async (spec) => {
      const replicas = existing.filter((c) => c.Labels[LABEL.workload] === spec.name);
      if (replicas.length)
        return byWorkload.set(
          spec.name,
          replicas.map((c) => c.Id),
        );
      const created = await Promise.all(
        Array.from({ length: spec.replicas }, (_, r) =>
          createReplica(target, d, spec, containerName(project, spec.name, r + 1), options),
        ),
      );
      return byWorkload.set(
        spec.name,
        created.map((c) => c.id),
      );
    }),
  );
  const waves = startOrder(d);
  for (const [i, wave] of waves.entries()) {
    throwIfAborted(ctx.signal);
    say(3, `starting ${wave.map((w) => w.name).join(', ')} (wave ${i + 1}/${waves.length})`);
    await Promise.all(
      wave.flatMap((spec) => byWorkload.get(spec.name)!.map((id) => startContainer(docker.getContainer(id)))),
    );
    await target.afterStart?.();
  }
  const ids = [...byWorkload.values()].flat();
  say(4, 'waiting until every workload is healthy');
  await waitHealthy(docker, ids, ctx.signal, (healthy, total) =>
    say(4, `${healthy}/${total} workloads healthy`),
  );
  say(5, 'done');
  const url = storefrontOf(await docker.getContainer(byWorkload.get(d.entry)![0]!).inspect());
  return `${name} is up: ${ids.length} containers healthy; the storefront is at ${url ?? '(not published)'}`;
}

/** Removes the deployment's containers, then its networks. */
/** The per-workload firewall sidecars: the new deployment gets its own (or, in the perimeter, none). */
async function removeSidecars(docker: Docker, project: string): Promise<void> {
  const sidecars = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=firewall`] },
  });
  await Promise.all(
    sidecars.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

async function removeRouter(docker: Docker, project: string): Promise<void> {
  const router = await findRouter(docker, project);
  if (router)
    await docker
      .getContainer(router.Id)
      .remove({ force: true })
      .catch(() => undefined);
}

/** Removes the project's deployment networks that `unwanted` names (best effort: one still in use stays). */
async function removeNetworks(
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
      .map((n) =>
        docker
          .getNetwork(n.Id)
          .remove()
          .catch(() => undefined),
      ),
  );
}

/** Removes the deployment's containers (and the perimeter firewall, if any), then its networks. */
export async function down({ docker, project }: Target): Promise<DownReport> {
  const report: DownReport = { removed: [], failed: [] };
  const router = await findRouter(docker, project);
  const containers = [...(await deploymentContainers(docker, project)), ...(router ? [router] : [])];
  const resource = (kind: LabeledResource['kind'], id: string, name: string): LabeledResource => ({
    kind,
    id,
    name,
    project,
  });
  await Promise.all(
    containers.map(async (c) => {
      const r = {
        ...resource('container', c.Id, c.Names[0]?.replace(/^\//, '') ?? c.Id),
        role: c.Labels[LABEL.role] ?? 'workload',
      };
      try {
        await docker.getContainer(c.Id).remove({ force: true, v: true });
        report.removed.push(r);
      } catch (err) {
        if (isGone(err)) report.removed.push(r);
        else report.failed.push({ resource: r, error: (err as Error).message });
      }
    }),
  );
  const networks = await docker.listNetworks({
    filters: { label: [`${LABEL.project}=${project}`, NETWORK_LABEL] },
  });
  for (const n of networks) {
    const r = { ...resource('network', n.Id, n.Name), role: 'network' };
    try {
      await docker.getNetwork(n.Id).remove();
      report.removed.push(r);
    } catch (err) {
      if (isGone(err)) report.removed.push(r);
      else report.failed.push({ resource: r, ...(await networkRemovalFailure(docker, r, project, err)) });
    }
  }
  return report;
}

async function replicasOf(docker: Docker, project: string, workload: string): Promise<ContainerInfo[]> {
  const all = await deploymentContainers(docker, project);
  return all
    .filter((c) => c.Labels[LABEL.workload] === workload)
    .sort((a, b) => replicaOf(a, project, workload) - replicaOf(b, project, workload));
}

export async function scale(
  target: Target,
  service: string,
  replicas: number,
  ctx: TaskContext,
): Promise<string> {
  const { docker, project } = target;
  const d = requireDeployment(await currentDeployment(docker, project));
  refuseInPerimeter(d, 'scaled');
  const spec = specFor(d, service);
  if (!spec.scalable) {
    throw new ApiError(
      'not-scalable',
      `${service} cannot be scaled in the ${d.name}${spec.kind === 'postgres' ? ' (a database has one primary)' : spec.publish !== undefined ? ' (it publishes the storefront port)' : ''}`,
      d.name === 'monolith'
        ? 'The monolith scales as a whole: that is one of the differences the labs measure. Try the microservices.'
        : `Scalable: ${d.workloads
            .filter((w) => w.scalable)
            .map((w) => w.name)
            .join(', ')}.`,
    );
  }
  const current = await replicasOf(docker, project, service);
  const version = current[0]
    ? envOf(await docker.getContainer(current[0].Id).inspect(), 'SHOP_VERSION')
    : undefined;
  if (replicas > current.length) {
    const next = Math.max(0, ...current.map((c) => replicaOf(c, project, service))) + 1;
    ctx.progress({ step: 1, message: `starting ${replicas - current.length} more ${service}` });
    const created = await Promise.all(
      Array.from({ length: replicas - current.length }, (_, i) =>
        createReplica(target, d, spec, containerName(project, service, next + i), { version, port: 0 }),
      ),
    );
    await Promise.all(created.map((c) => startContainer(c)));
    await target.afterStart?.();
    ctx.progress({ step: 2, message: 'waiting until the new replicas are healthy' });
    await waitHealthy(
      docker,
      created.map((c) => c.id),
      ctx.signal,
    );
  } else if (replicas < current.length) {
    const extra = current.slice(replicas);
    ctx.progress({ step: 1, message: `stopping ${extra.length} ${service} (draining)` });
    await Promise.all(extra.map((c) => retire(docker, c.Id)));
  }
  ctx.progress({ step: 2, message: 'done' });
  return `${service}: ${replicas} replica${replicas === 1 ? '' : 's'} (was ${current.length})`;
}

export async function upgrade(
  target: Target,
  service: string,
  version: number,
  ctx: TaskContext,
): Promise<string> {
  const { docker, project } = target;
  const d = requireDeployment(await currentDeployment(docker, project));
  refuseInPerimeter(d, 'upgraded');
  const spec = specFor(d, d.modules[service] ?? service);
  if (spec.kind !== 'app')
    throw new ApiError('not-upgradable', `${service} is a database: only the shop's services are upgraded`);
  const current = await replicasOf(docker, project, spec.name);
  if (current.length === 0)
    throw new ApiError('not-deployed', `${spec.name} is not running`, 'Run `microlab up` first.');
  const started = Date.now();

  if (spec.publish !== undefined) {
    // The storefront's workload publishes the port: one at a time, so it restarts.
    const old = current[0]!;
    const info = await docker.getContainer(old.Id).inspect();
    const port = Number(info.HostConfig.PortBindings?.[`${spec.publish}/tcp`]?.[0]?.HostPort ?? 0);
    ctx.progress({
      step: 1,
      message: `stopping ${spec.name} (the whole ${d.name === 'monolith' ? 'app' : 'gateway'})`,
    });
    await retire(docker, old.Id);
    ctx.progress({ step: 2, message: `starting ${spec.name} version ${version}` });
    const fresh = await createReplica(
      target,
      d,
      spec,
      containerName(project, spec.name, replicaOf(old, project, spec.name) || 1),
      {
        version: String(version),
        port,
      },
    );
    await startContainer(fresh);
    await target.afterStart?.();
    await waitHealthy(docker, [fresh.id], ctx.signal);
    return `${spec.name} restarted at version ${version}${d.name === 'monolith' ? ' (the whole app)' : ''} in ${((Date.now() - started) / 1000).toFixed(1)}s`;
  }

  for (const [i, old] of current.entries()) {
    throwIfAborted(ctx.signal);
    const replica = replicaOf(old, project, spec.name);
    const name = containerName(project, spec.name, replica);
    ctx.progress({ step: i + 1, message: `replacing ${name} with version ${version}` });
    const fresh = await createReplica(target, d, spec, `${name}-next`, { version: String(version), port: 0 });
    await startContainer(fresh);
    await target.afterStart?.();
    await waitHealthy(docker, [fresh.id], ctx.signal);
    await retire(docker, old.Id);
    await fresh.rename({ name });
  }
  return `${spec.name}: ${current.length} replica${current.length === 1 ? '' : 's'} rolled to version ${version} in ${((Date.now() - started) / 1000).toFixed(1)}s`;
}
