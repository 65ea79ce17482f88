/**
 * `scale` and `upgrade`: add or remove replicas of a service (they share its DNS name), and
 * replace them one by one (rolling); the storefront's workload restarts instead, unless it
 * runs behind the monolith's load balancer (balancer.ts), where it rolls like the others.
 *
 * A roll watches each new replica: one that does not become healthy, or stops, turns
 * unhealthy or stops answering within UPGRADE_WATCH_S after it was healthy, halts the roll,
 * and every replica this roll replaced goes back to the version it had (error `rolled-back`,
 * saying which replica failed, why, and what was restored). A scale may set the replicas' CPU
 * limit; new replicas (scale, upgrade) keep the limit of those they join or replace.
 */
import type Docker from 'dockerode';
import type { ContainerInfo } from 'dockerode';
import { ApiError } from '../errors';
import { LABEL } from '../engine/labels';
import type { TaskContext } from '../tasks';
import { throwIfAborted } from '../tasks';
import { createBalancer, findBalancer } from './balancer';
import {
  cpusOf,
  createReplica,
  renameHolder,
  retire,
  setCpus,
  startContainer,
  waitHealthy,
  watchReplicas,
} from './containers';
import type { Deployment, WorkloadSpec } from './declarations';
import { APP_PORT } from './declarations';
import type { Target } from './running';
import {
  containerName,
  currentDeployment,
  deploymentContainers,
  envOf,
  networkName,
  replicaOf,
  requireDeployment,
  networkSide,
  storefrontOf,
} from './running';

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

async function replicasOf(docker: Docker, project: string, workload: string): Promise<ContainerInfo[]> {
  const all = await deploymentContainers(docker, project);
  return all
    .filter((c) => c.Labels[LABEL.workload] === workload)
    .sort((a, b) => replicaOf(a, project, workload) - replicaOf(b, project, workload));
}

/** The monolith's app may be named "app" as well as by its workload ("shop"). */
export const MONOLITH_APP_ALIAS = 'app';

/**
 * Sets the number of replicas of a workload. Microservices: they share its DNS name and
 * callers re-resolve it every second. The monolith's app scales only as a whole, behind a
 * load balancer that takes the storefront's place (balancer.ts) once it runs more than one;
 * asking to scale one of its modules says so.
 */
export async function scale(
  target: Target,
  service: string,
  replicas: number,
  ctx: TaskContext,
  /** CPU limit of every replica (cores): the running ones are updated in place. Absent: new ones keep the current limit. */
  cpus?: number,
): Promise<string> {
  const { docker, project } = target;
  const d = requireDeployment(await currentDeployment(docker, project));
  refuseInPerimeter(d, 'scaled');
  if (d.name === 'monolith' && d.modules[service] && d.modules[service] !== service) {
    throw new ApiError(
      'not-scalable',
      `${service} is a module inside the monolith's ${d.modules[service]}: it cannot be scaled alone`,
      `The monolith scales as a whole (that is one of the differences the labs measure): \`microlab scale ${d.entry} ${replicas}\` runs ${replicas} copies of the whole app; the microservices scale ${service} alone.`,
    );
  }
  const spec = specFor(d, d.name === 'monolith' && service === MONOLITH_APP_ALIAS ? d.entry : service);
  if (!spec.scalable) {
    throw new ApiError(
      'not-scalable',
      `${service} cannot be scaled in the ${d.name}${spec.kind === 'postgres' ? ' (a database has one primary)' : spec.publish !== undefined ? ' (it publishes the storefront port)' : ''}`,
      `Scalable: ${d.workloads
        .filter((w) => w.scalable)
        .map((w) => w.name)
        .join(', ')}.`,
    );
  }
  const name = spec.name;
  const current = await replicasOf(docker, project, name);
  const version = current[0]
    ? envOf(await docker.getContainer(current[0].Id).inspect(), 'SHOP_VERSION')
    : undefined;
  const limit = cpus ?? (current[0] ? await cpusOf(docker, current[0].Id) : undefined);
  if (cpus !== undefined) {
    ctx.progress({ step: 1, message: `limiting every ${spec.name} to ${cpus} CPU` });
    await Promise.all(current.map((c) => setCpus(docker, c.Id, cpus)));
  }
  const cpuNote = cpus !== undefined ? `, ${cpus} CPU each` : '';
  const lb = spec.balanced ? await findBalancer(docker, project) : undefined;
  if (spec.balanced && !lb && replicas > 1 && current.length === 1)
    return (await placeBalancer(target, d, spec, current[0]!, replicas, version, limit, ctx)) + cpuNote;
  const behindBalancer = Boolean(lb);
  if (lb && lb.State !== 'running') await startContainer(docker.getContainer(lb.Id));
  if (replicas > current.length) {
    const next = Math.max(0, ...current.map((c) => replicaOf(c, project, name))) + 1;
    ctx.progress({ step: 1, message: `starting ${replicas - current.length} more ${name}` });
    const created = await Promise.all(
      Array.from({ length: replicas - current.length }, (_, i) =>
        createReplica(target, d, spec, containerName(project, name, next + i), {
          version,
          port: 0,
          behindBalancer,
          ...(limit !== undefined ? { cpus: limit } : {}),
        }),
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
    ctx.progress({ step: 1, message: `stopping ${extra.length} ${name} (draining)` });
    await Promise.all(extra.map((c) => retire(docker, c.Id)));
    // Peers forget the removed replicas' addresses now (the agent does too, for any process).
    await target.afterStart?.();
  }
  ctx.progress({ step: 2, message: 'done' });
  return `${name}: ${replicas} replica${replicas === 1 ? '' : 's'}${behindBalancer ? ' behind the load balancer' : ''} (was ${current.length})${cpuNote}`;
}

/**
 * The monolith's first scale-out: `replicas` copies of the whole app, then the balancer takes
 * the storefront's port and name from the single replica that held them. New replicas start
 * (and pass their readiness) first; the old one then drains and goes, and the balancer binds
 * the port it freed, so the storefront is away only for that hand-over (about a second).
 * The replacement for the old replica starts as `<name>-next` and takes its name afterwards.
 */
async function placeBalancer(
  target: Target,
  d: Deployment,
  spec: WorkloadSpec,
  old: ContainerInfo,
  replicas: number,
  version: string | undefined,
  cpus: number | undefined,
  ctx: TaskContext,
): Promise<string> {
  const { docker, project } = target;
  // A pod's port is published by its holder.
  const info = await networkSide(docker, await docker.getContainer(old.Id).inspect());
  const hostPort = Number(info.NetworkSettings.Ports?.[`${APP_PORT}/tcp`]?.[0]?.HostPort ?? 0);
  const oldName = containerName(project, spec.name, replicaOf(old, project, spec.name) || 1);
  ctx.progress({
    step: 1,
    message: `starting ${replicas} copies of the whole ${spec.name} behind a load balancer`,
  });
  const created = await Promise.all(
    Array.from({ length: replicas }, (_, i) =>
      createReplica(target, d, spec, i === 0 ? `${oldName}-next` : containerName(project, spec.name, i + 1), {
        version,
        port: 0,
        behindBalancer: true,
        ...(cpus !== undefined ? { cpus } : {}),
      }),
    ),
  );
  await Promise.all(created.map((c) => startContainer(c)));
  await target.afterStart?.();
  await waitHealthy(
    docker,
    created.map((c) => c.id),
    ctx.signal,
  );
  ctx.progress({ step: 2, message: `the load balancer takes the storefront from ${oldName}` });
  const lb = await createBalancer(docker, project, spec, networkName(project, 'edge'), hostPort);
  await retire(docker, old.Id);
  await startContainer(lb);
  await created[0]!.rename({ name: oldName });
  await renameHolder(docker, created[0]!.id, oldName);
  await waitHealthy(docker, [lb.id], ctx.signal);
  const url = storefrontOf(await lb.inspect());
  return `${spec.name}: ${replicas} replicas behind the load balancer (was 1); the storefront stays at ${url ?? '(not published)'}`;
}

/** How long a roll watches each new replica after it was healthy (s), unless told otherwise. */
export const UPGRADE_WATCH_S = 8;

/** A replica a roll put in place: its container, its name, and what it replaced. */
interface Rolled {
  id: string;
  name: string;
  previousVersion: string | undefined;
  cpus: number | undefined;
}

export async function upgrade(
  target: Target,
  service: string,
  version: number,
  ctx: TaskContext,
  /** Seconds each new replica is watched after it was healthy (0: not watched). */
  watchS = UPGRADE_WATCH_S,
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
  const watch = (ids: string[]) =>
    watchS > 0 ? watchReplicas(docker, ids, watchS * 1000, ctx.signal) : undefined;

  const behindBalancer = Boolean(spec.balanced && (await findBalancer(docker, project)));
  if (spec.publish !== undefined && !behindBalancer) {
    // The storefront's workload publishes the port: one at a time, so it restarts.
    const old = current[0]!;
    const info = await networkSide(docker, await docker.getContainer(old.Id).inspect());
    const port = Number(info.HostConfig.PortBindings?.[`${spec.publish}/tcp`]?.[0]?.HostPort ?? 0);
    const before = await docker.getContainer(old.Id).inspect();
    const previousVersion = envOf(before, 'SHOP_VERSION');
    const cpus = await cpusOf(docker, old.Id);
    const name = containerName(project, spec.name, replicaOf(old, project, spec.name) || 1);
    const restart = async (v: string | undefined) => {
      const fresh = await createReplica(target, d, spec, name, {
        version: v,
        port,
        ...(cpus !== undefined ? { cpus } : {}),
      });
      await startContainer(fresh);
      await target.afterStart?.();
      await waitHealthy(docker, [fresh.id], ctx.signal);
      return fresh;
    };
    ctx.progress({
      step: 1,
      message: `stopping ${spec.name} (the whole ${d.name === 'monolith' ? 'app' : 'gateway'})`,
    });
    await retire(docker, old.Id);
    ctx.progress({ step: 2, message: `starting ${spec.name} version ${version}` });
    let failure: string | undefined;
    try {
      const fresh = await restart(String(version));
      const bad = await watch([fresh.id]);
      if (bad) {
        failure = bad.why;
        await retire(docker, fresh.id, { kill: true });
      }
    } catch (err) {
      if (!(err instanceof ApiError) || !['workload-exited', 'unhealthy'].includes(err.code)) throw err;
      failure = err.message;
      await retire(docker, (await replicasOf(docker, project, spec.name))[0]?.Id ?? '', { kill: true }).catch(
        () => undefined,
      );
    }
    if (failure) {
      ctx.progress({
        step: 2,
        message: `version ${version} failed: back to version ${previousVersion ?? '1'}`,
      });
      await restart(previousVersion);
      throw rolledBack(spec.name, version, failure, 1, 1, previousVersion, started);
    }
    return `${spec.name} restarted at version ${version}${d.name === 'monolith' ? ' (the whole app)' : ''} in ${((Date.now() - started) / 1000).toFixed(1)}s`;
  }

  const rolled: Rolled[] = [];
  let failure: string | undefined;
  let failedAt = 0;
  let failedId: string | undefined;
  for (const [i, old] of current.entries()) {
    throwIfAborted(ctx.signal);
    const replica = replicaOf(old, project, spec.name);
    const name = containerName(project, spec.name, replica);
    const previousVersion = envOf(await docker.getContainer(old.Id).inspect(), 'SHOP_VERSION');
    const cpus = await cpusOf(docker, old.Id);
    ctx.progress({
      step: 1,
      message: `replacing ${name} with version ${version} (${i + 1} of ${current.length})`,
    });
    const fresh = await createReplica(target, d, spec, `${name}-next`, {
      version: String(version),
      port: 0,
      behindBalancer,
      ...(cpus !== undefined ? { cpus } : {}),
    });
    await startContainer(fresh);
    await target.afterStart?.();
    try {
      await waitHealthy(docker, [fresh.id], ctx.signal);
    } catch (err) {
      if (!(err instanceof ApiError) || !['workload-exited', 'unhealthy'].includes(err.code)) throw err;
      // It never served: it goes, and the replica it was to replace stays.
      failure = err.message;
      failedAt = i + 1;
      await retire(docker, fresh.id, { kill: true });
      break;
    }
    if (i === current.length - 1)
      ctx.progress({ step: 2, message: `retiring ${name}, the last one at the old version` });
    await retire(docker, old.Id);
    await fresh.rename({ name });
    await renameHolder(docker, fresh.id, name);
    rolled.push({ id: fresh.id, name, previousVersion, cpus });
    // Every replica rolled so far is watched again: a fault that shows late is still caught.
    ctx.progress({ step: 1, message: `watching ${name} at version ${version} for ${watchS} s` });
    const bad = await watch(rolled.map((r) => r.id));
    if (bad) {
      failure = bad.why;
      failedAt = i + 1;
      failedId = bad.id;
      break;
    }
  }
  if (failure) {
    ctx.progress({ step: 2, message: `halted: ${failure}; rolling back` });
    await rollBack(target, d, spec, rolled, failedId, behindBalancer, ctx);
    throw rolledBack(
      spec.name,
      version,
      failure,
      failedAt,
      current.length,
      await versionOf(docker, project, spec.name),
      started,
    );
  }
  return `${spec.name}: ${current.length} replica${current.length === 1 ? '' : 's'} rolled to version ${version} in ${((Date.now() - started) / 1000).toFixed(1)}s`;
}

async function versionOf(docker: Docker, project: string, workload: string): Promise<string | undefined> {
  const first = (await replicasOf(docker, project, workload))[0];
  return first ? envOf(await docker.getContainer(first.Id).inspect(), 'SHOP_VERSION') : undefined;
}

/**
 * Puts back the version each rolled replica replaced, the replica that failed first: as in a
 * roll, a replacement at the old version starts beside it (`<name>-next`) and must be healthy;
 * then the bad one stops (SIGTERM, then its stop timeout: a process that no longer answers does
 * not heed it) and its replacement takes its name. (Its name is not reused while it goes: its
 * pod's holder keeps that name until it is removed.)
 */
async function rollBack(
  target: Target,
  d: Deployment,
  spec: WorkloadSpec,
  rolled: Rolled[],
  failedId: string | undefined,
  behindBalancer: boolean,
  ctx: TaskContext,
): Promise<void> {
  const { docker } = target;
  const order = [...rolled.filter((r) => r.id === failedId), ...rolled.filter((r) => r.id !== failedId)];
  for (const r of order) {
    throwIfAborted(ctx.signal);
    ctx.progress({ step: 2, message: `${r.name} back to version ${r.previousVersion ?? '1'}` });
    const back = await createReplica(target, d, spec, `${r.name}-next`, {
      ...(r.previousVersion ? { version: r.previousVersion } : {}),
      port: 0,
      behindBalancer,
      ...(r.cpus !== undefined ? { cpus: r.cpus } : {}),
    });
    await startContainer(back);
    await target.afterStart?.();
    await waitHealthy(docker, [back.id], ctx.signal);
    await retire(docker, r.id);
    await back.rename({ name: r.name });
    await renameHolder(docker, back.id, r.name);
  }
}

function rolledBack(
  workload: string,
  version: number,
  why: string,
  at: number,
  of: number,
  restored: string | undefined,
  started: number,
): ApiError {
  return new ApiError(
    'rolled-back',
    `${workload} version ${version} failed on replica ${at} of ${of}: ${why}. The roll stopped there; every replica runs version ${restored ?? '1'} again (${((Date.now() - started) / 1000).toFixed(1)}s)`,
    `Its logs tell why (\`docker logs\`); \`microlab status\` shows every replica at version ${restored ?? '1'}.`,
  );
}
