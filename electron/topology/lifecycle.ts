/**
 * `up` and `down`: a declaration becomes networks and containers (in dependency waves, the
 * perimeter firewall first when the layout has one), and goes away again.
 */
import type Docker from 'dockerode';
import type { ContainerInfo } from 'dockerode';
import { ApiError } from '../errors';
import { networkRemovalFailure } from '../engine/cleanup';
import { isGone, removeContainer, removeNetwork } from '../engine/remove';
import type { DownReport, LabeledResource } from '../engine/types';
import { LABEL } from '../engine/labels';
import { shopImageName } from '../engine/shop-image';
import type { TaskContext } from '../tasks';
import { throwIfAborted } from '../tasks';
import { findBalancer, removeBalancer } from './balancer';
import { createReplica, startContainer, waitHealthy } from './containers';
import { deployments, startOrder } from './declarations';
import { checkPort, ensureNetworks, removeNetworks } from './networks';
import { perimeterDeclaration, perimeterLayout, segmentNetworkName } from './perimeter';
import type { Target } from './running';
import {
  containerName,
  deploymentContainers,
  LAYOUT_LABEL,
  NETWORK_LABEL,
  networkName,
  segmentSubnets,
  networkSide,
  storefrontOf,
} from './running';
import type { DeploymentName, Layout } from './types';
import { WORKLOAD_LABEL } from './workload';

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
    // A port that is not free stops `up` before the running deployment goes, not after.
    await checkPort(docker, options.port, project);
    say(1, `removing the ${others[0]!.Labels[WORKLOAD_LABEL.deployment]} deployment`);
    await Promise.all(others.map((c) => removeContainer(docker, c.Id, { volumes: true })));
    existing = existing.filter((c) => !others.includes(c));
    await removeRouter(target);
    await removeBalancer(docker, project);
    await removeSidecars(docker, project);
    await removeNetworks(
      docker,
      project,
      (network) => !declared.networks.some((n) => networkName(project, n.name) === network),
    );
  }
  // A balancer stands only in front of running replicas: with none left, the entry publishes again.
  const lb = await findBalancer(docker, project);
  const behindBalancer = Boolean(lb) && existing.some((c) => c.Labels[LABEL.workload] === d.entry);
  if (lb && !behindBalancer) await removeBalancer(docker, project);
  const entryRunning =
    (behindBalancer && lb!.State === 'running') ||
    existing.some((c) => c.Labels[LABEL.workload] === d.entry && c.State === 'running');
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
    const router = target.perimeter;
    if (!router)
      throw new ApiError(
        'perimeter-unavailable',
        'the perimeter layout needs the perimeter firewall, and none was given',
      );
    if ((await router.find(docker, project))?.State !== 'running') {
      say(2, 'starting the perimeter firewall');
      await removeRouter(target);
      await router.start(
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
  if (behindBalancer) await startContainer(docker.getContainer(lb!.Id));
  const ids = [...byWorkload.values()].flat().concat(behindBalancer ? [lb!.Id] : []);
  say(4, 'waiting until every workload is healthy');
  await waitHealthy(docker, ids, ctx.signal, (healthy, total) =>
    say(4, `${healthy}/${total} workloads healthy`),
  );
  say(5, 'done');
  const url = storefrontOf(
    await networkSide(
      docker,
      await docker.getContainer(behindBalancer ? lb!.Id : byWorkload.get(d.entry)![0]!).inspect(),
    ),
  );
  return `${name} is up: ${ids.length} containers healthy; the storefront is at ${url ?? '(not published)'}`;
}

/** The per-workload firewall sidecars: the new deployment gets its own (or, in the perimeter, none). */
export async function removeSidecars(docker: Docker, project: string): Promise<void> {
  const sidecars = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=firewall`] },
  });
  // The agent may be removing a holder already (its app just went): wait until it is gone, so
  // the new deployment can take its name.
  await Promise.all(sidecars.map((c) => removeContainer(docker, c.Id)));
}

async function removeRouter({ docker, project, perimeter }: Target): Promise<void> {
  const router = await perimeter?.find(docker, project);
  if (router) await removeContainer(docker, router.Id);
}

/** Removes the deployment's containers (and the perimeter firewall, if any), then its networks. */
export async function down({ docker, project, perimeter }: Target): Promise<DownReport> {
  const report: DownReport = { removed: [], failed: [] };
  const [router, lb] = await Promise.all([perimeter?.find(docker, project), findBalancer(docker, project)]);
  const containers = [
    ...(await deploymentContainers(docker, project)),
    ...(router ? [router] : []),
    ...(lb ? [lb] : []),
  ];
  const resource = (kind: LabeledResource['kind'], id: string, name: string): LabeledResource => ({
    kind,
    id,
    name,
    project,
  });
  const removeAll = (list: ContainerInfo[]) =>
    Promise.all(
      list.map(async (c) => {
        const r = {
          ...resource('container', c.Id, c.Names[0]?.replace(/^\//, '') ?? c.Id),
          role: c.Labels[LABEL.role] ?? 'workload',
        };
        try {
          await removeContainer(docker, c.Id, { volumes: true });
          report.removed.push(r);
        } catch (err) {
          report.failed.push({ resource: r, error: (err as Error).message });
        }
      }),
    );
  await removeAll(containers);
  // Then the pods' holders (and sidecars), then the firewall agent: the workloads went first,
  // so the agent never sees a pod to restore, and the holders take their endpoints with them.
  for (const role of ['firewall', 'firewall-agent'])
    await removeAll(
      await docker.listContainers({
        all: true,
        filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=${role}`] },
      }),
    );
  const networks = await docker.listNetworks({
    filters: { label: [`${LABEL.project}=${project}`, NETWORK_LABEL] },
  });
  for (const n of networks) {
    const r = { ...resource('network', n.Id, n.Name), role: 'network' };
    try {
      await removeNetwork(docker, n.Id, project);
      report.removed.push(r);
    } catch (err) {
      if (isGone(err)) report.removed.push(r);
      else report.failed.push({ resource: r, ...(await networkRemovalFailure(docker, r, project, err)) });
    }
  }
  return report;
}
