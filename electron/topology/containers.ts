/**
 * A replica's container: created from its workload's declaration, started, waited on until
 * healthy, and retired gracefully.
 */
import type Docker from 'dockerode';
import { ApiError } from '../errors';
import { labelsFor } from '../engine/labels';
import { isGone, removeContainer } from '../engine/remove';
import { isPodman, runHealthcheck } from '../engine/podman';
import { demuxBuffer } from '../engine/streams';
import { shopImageName } from '../engine/shop-image';
import { throwIfAborted } from '../tasks';
import { pollUntil, sleep, TimeoutError } from '../wait';
import type { Deployment, WorkloadSpec } from './declarations';
import { DB_PASSWORD, STOREFRONT_ALIAS, withPassword } from './declarations';
import { deploymentPassword, SECRET_LABEL } from './secret';
import type { Target } from './running';
import { holderOf, LAYOUT_LABEL, networkName } from './running';
import { workloadLabels } from './workload';

const HEALTH_TIMEOUT_MS = 120_000;

const PODMAN_CHECK_EVERY_MS = 1000;
export const STOP_TIMEOUT_S = 10;

export async function createReplica(
  { docker, project, openNamespace, classSeed }: Target,
  d: Deployment,
  spec: WorkloadSpec,
  name: string,
  options: {
    version?: string;
    port: number;
    behindBalancer?: boolean;
    /** CPU limit (cores) instead of the declaration's (a replica keeps its predecessor's). */
    cpus?: number;
  },
): Promise<Docker.Container> {
  // Behind the monolith's balancer a replica publishes nothing and is not the storefront.
  if (options.behindBalancer) spec = { ...spec, publish: undefined };
  const env = { ...spec.env };
  if (options.version && spec.kind === 'app') env.SHOP_VERSION = options.version;
  // The deployment's database password, where the declaration names it (secret.ts).
  let command = spec.command;
  const secret = [...Object.values(env), ...(command ?? [])].some((v) => v.includes(DB_PASSWORD))
    ? await deploymentPassword(
        docker,
        project,
        classSeed ? { seed: classSeed, deployment: d.name } : undefined,
      )
    : undefined;
  if (secret !== undefined) {
    for (const [k, v] of Object.entries(env)) env[k] = withPassword(v, secret);
    command = command?.map((c) => withPassword(c, secret));
  }
  const lab = spec.networks.find((n) => n !== 'edge')!;
  const primary = spec.publish !== undefined ? 'edge' : lab;
  const endpoint = (network: string) => ({
    Aliases: aliases(network),
    ...(spec.addresses?.[network] ? { IPAMConfig: { IPv4Address: spec.addresses[network] } } : {}),
  });
  const aliases = (network: string) =>
    network === 'edge' && !options.behindBalancer ? [STOREFRONT_ALIAS, spec.name] : [spec.name];
  const h = spec.health;
  // A pod: the holder takes the network side (networks, addresses, aliases, hosts, port) and
  // holds its table before this container exists; this container joins its namespace.
  const holder =
    openNamespace && d.layout !== 'perimeter'
      ? await openNamespace({
          name,
          workload: { name: spec.name, labels: spec.labels, ports: spec.ports },
          deployment: d.name,
          hostname: name,
          networks: [primary, ...spec.networks.filter((n) => n !== primary)].map((n) => ({
            network: networkName(project, n),
            aliases: aliases(n),
            ...(spec.addresses?.[n] ? { address: spec.addresses[n] } : {}),
          })),
          ...(spec.publish !== undefined ? { publish: { port: spec.publish, hostPort: options.port } } : {}),
          ...(spec.extraHosts?.length ? { extraHosts: spec.extraHosts } : {}),
          labels: { [LAYOUT_LABEL]: d.layout },
        })
      : undefined;
  const network = holder
    ? {}
    : {
        Hostname: name.slice(0, 63),
        ExposedPorts: Object.fromEntries(spec.ports.map((p) => [`${p.port}/${p.protocol}`, {}])),
        NetworkingConfig: {
          EndpointsConfig: { [networkName(project, primary)]: endpoint(primary) },
        },
      };
  const hostNetwork = holder
    ? { NetworkMode: `container:${holder}` }
    : {
        NetworkMode: networkName(project, primary),
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
      };
  const container = await docker.createContainer({
    name,
    Image: shopImageName(),
    ...network,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    ...(spec.user ? { User: spec.user } : {}),
    ...(command ? { Cmd: command } : {}),
    Labels: {
      ...labelsFor(project, 'workload', { workload: spec.name }),
      ...(secret !== undefined ? { [SECRET_LABEL]: secret } : {}),
      ...workloadLabels({ name: spec.name, labels: spec.labels, ports: spec.ports }, d.name),
      [LAYOUT_LABEL]: d.layout,
    },
    Healthcheck: {
      Test: h.test,
      Interval: h.intervalMs * 1e6,
      Timeout: h.timeoutMs * 1e6,
      Retries: h.retries,
      StartPeriod: h.startPeriodMs * 1e6,
    },
    StopTimeout: STOP_TIMEOUT_S,
    HostConfig: {
      ...hostNetwork,
      Memory: memoryLimitBytes(spec.resources.memoryMb),
      MemorySwap: memoryLimitBytes(spec.resources.memoryMb),
      NanoCpus: Math.round((options.cpus ?? spec.resources.cpus) * 1e9),
      ...(spec.resources.cpuShares ? { CpuShares: spec.resources.cpuShares } : {}),
      PidsLimit: spec.resources.pids,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ShmSize: 64 * 1024 * 1024,
    },
  });
  if (holder) return container;
  for (const network of spec.networks.filter((n) => n !== primary)) {
    await docker
      .getNetwork(networkName(project, network))
      .connect({ Container: container.id, EndpointConfig: endpoint(network) });
  }
  return container;
}

export async function startContainer(container: Docker.Container): Promise<void> {
  try {
    await container.start();
  } catch (err) {
    // 304: already started.
    if ((err as { statusCode?: number }).statusCode !== 304) throw err;
  }
}

/**
 * Stops gracefully (SIGTERM: the app drains), then removes it and its pod's holder. With `kill`
 * (a replica that stopped answering: nothing to drain, and it may not heed SIGTERM), at once.
 */
export async function retire(
  docker: Docker,
  id: string,
  { kill = false }: { kill?: boolean } = {},
): Promise<void> {
  const container = docker.getContainer(id);
  const holder = await holderOf(docker, id);
  await (kill ? container.kill() : container.stop({ t: STOP_TIMEOUT_S })).catch((err: unknown) => {
    const code = (err as { statusCode?: number }).statusCode;
    if (code !== 304 && code !== 404 && code !== 409) throw err;
  });
  // The pod's holder goes as soon as its app exited: it holds the address and the DNS name,
  // which peers (a balancer resolving the name) must stop using at once.
  if (holder) await removeContainer(docker, holder);
  await container.remove({ force: true, v: true }).catch((err: unknown) => {
    if (!isGone(err)) throw err;
  });
}

/** After a rolling upgrade renamed a replica, its holder takes the matching name (`<name>-fw`). */
export async function renameHolder(docker: Docker, id: string, name: string): Promise<void> {
  const holder = await holderOf(docker, id);
  if (holder) await docker.getContainer(holder).rename({ name: `${name}-fw` });
}

/** The CPU limit a container runs with (cores), if it has one. */
export async function cpusOf(docker: Docker, id: string): Promise<number | undefined> {
  const nano = (await docker.getContainer(id).inspect()).HostConfig.NanoCpus ?? 0;
  return nano > 0 ? nano / 1e9 : undefined;
}

/** Sets a running container's CPU limit (cores). */
export async function setCpus(docker: Docker, id: string, cpus: number): Promise<void> {
  await docker.getContainer(id).update({ NanoCpus: Math.round(cpus * 1e9) });
}

/** How a watched replica is probed: its readiness endpoint, from inside, with a 1 s limit. */
const WATCH_PROBE = ['curl', '-fsS', '-o', '/dev/null', '-m', '1', 'http://127.0.0.1:8080/readyz'];
const WATCH_PROBE_EVERY_MS = 1000;
/** Probes failed in a row that make a replica count as failed. */
const WATCH_FAILURES = 2;

/** Whether `cmd` exits 0 in the container (false when it cannot run, or runs past `timeoutMs`). */
async function probe(docker: Docker, id: string, cmd: string[], timeoutMs: number): Promise<boolean> {
  try {
    const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const ended = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        stream.destroy();
        resolve(false);
      }, timeoutMs);
      stream.on('data', () => undefined);
      stream.on('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
      stream.on('end', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    return ended && (await exec.inspect()).ExitCode === 0;
  } catch {
    return false;
  }
}

/**
 * Watches healthy replicas for `ms`: each is inspected and probed once a second (its readiness
 * endpoint from inside, 1 s limit). Returns the first that stopped, turned unhealthy or failed
 * two probes in a row, with why; undefined when all stayed up. A release whose fault shows only
 * after readiness (a leak, a deadlock, a crash on the first real request) is caught here.
 */
export async function watchReplicas(
  docker: Docker,
  ids: string[],
  ms: number,
  signal: AbortSignal,
): Promise<{ id: string; name: string; why: string } | undefined> {
  const started = Date.now();
  const failures = new Map<string, number>();
  while (Date.now() - started < ms) {
    throwIfAborted(signal);
    const round = Date.now();
    for (const id of ids) {
      const info = await docker.getContainer(id).inspect();
      const name = info.Name.replace(/^\//, '');
      const after = `${((Date.now() - started) / 1000).toFixed(1)} s after it was healthy`;
      if (!info.State.Running)
        return { id, name, why: `${name} stopped (exit code ${info.State.ExitCode}) ${after}` };
      if (info.State.Health?.Status === 'unhealthy')
        return { id, name, why: `${name} turned unhealthy ${after}` };
      const ok = await probe(docker, id, WATCH_PROBE, 3000);
      failures.set(id, ok ? 0 : (failures.get(id) ?? 0) + 1);
      if ((failures.get(id) ?? 0) >= WATCH_FAILURES)
        return {
          id,
          name,
          why: `${name} stopped answering its readiness check (${WATCH_FAILURES} probes in a row) ${after}`,
        };
    }
    await sleep(Math.max(0, WATCH_PROBE_EVERY_MS - (Date.now() - round)), signal);
  }
  return undefined;
}

async function lastLogs(docker: Docker, id: string): Promise<string> {
  try {
    const buffer = (await docker
      .getContainer(id)
      .logs({ stdout: true, stderr: true, tail: 5, follow: false })) as unknown as Buffer;
    return demuxBuffer(buffer).trim().split('\n').slice(-3).join(' | ');
  } catch {
    return '';
  }
}

/** Waits until every container is healthy; fails at once if one exits. */
export async function waitHealthy(
  docker: Docker,
  ids: string[],
  signal: AbortSignal,
  onProgress?: (healthy: number, total: number) => void,
): Promise<void> {
  let reported = -1;
  // Podman without systemd never runs health checks by itself (engine/podman.ts): run them here, once a second.
  const podman = await isPodman(docker);
  let lastChecks = 0;
  let infos: Docker.ContainerInspectInfo[] = [];
  const allHealthy = async () => {
    throwIfAborted(signal);
    if (podman && Date.now() - lastChecks >= PODMAN_CHECK_EVERY_MS) {
      lastChecks = Date.now();
      await Promise.all(ids.map((id) => runHealthcheck(docker, id)));
    }
    infos = await Promise.all(ids.map((id) => docker.getContainer(id).inspect()));
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
    return healthy === ids.length;
  };
  await pollUntil(allHealthy, { what: 'every container to be healthy', limitMs: HEALTH_TIMEOUT_MS }).catch(
    (err: unknown) => {
      if (!(err instanceof TimeoutError)) throw err;
      const slow = infos.filter((i) => i.State.Health?.Status !== 'healthy');
      const why = slow
        .map(
          (i) =>
            `${i.Name.replace(/^\//, '')}: ${i.State.Health?.Log?.at(-1)?.Output?.trim() ?? 'no check yet'}`,
        )
        .join('; ');
      throw new ApiError('unhealthy', `not healthy after ${HEALTH_TIMEOUT_MS / 1000}s: ${why}`);
    },
  );
}

/**
 * A workload's memory limit in bytes: its declared MB plus MICROLAB_EMULATION_MEMORY_MB (default
 * 0), which a shop image run emulated needs (the arm64 test: QEMU keeps its translated code in
 * the container's memory, and the 96 MB reporting job was OOM-killed without it).
 */
export function memoryLimitBytes(memoryMb: number, env: NodeJS.ProcessEnv = process.env): number {
  const extra = Number(env.MICROLAB_EMULATION_MEMORY_MB ?? 0);
  return (memoryMb + (Number.isFinite(extra) && extra > 0 ? extra : 0)) * 1024 * 1024;
}
