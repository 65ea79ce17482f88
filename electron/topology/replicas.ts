/**
 * `scale` and `upgrade`: add or remove replicas of a service (they share its DNS name), and
 * replace them one by one (rolling); the storefront's workload restarts instead.
 */
import type Docker from 'dockerode';
import type { ContainerInfo } from 'dockerode';
import { ApiError } from '../errors';
import { LABEL } from '../engine/labels';
import type { TaskContext } from '../tasks';
import { throwIfAborted } from '../tasks';
import { createReplica, retire, startContainer, waitHealthy } from './containers';
import type { Deployment, WorkloadSpec } from './declarations';
import type { Target } from './running';
import {
  containerName,
  currentDeployment,
  deploymentContainers,
  envOf,
  replicaOf,
  requireDeployment,
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
