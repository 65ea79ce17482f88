/**
 * The firewall's side of a pod's life, as the topology asks for it through one narrow call
 * (`openNamespace`): make sure the project's agent runs, create the pod's holder (closed from
 * its first instant), load the pod's own table and wait for the holder to confirm it. Only
 * then does the topology create the app container in that namespace.
 */
import type Docker from 'dockerode';
import type { Enforcer } from './enforcer';
import type { AgentState } from './agent';
import { findAgent, syncAgent } from './agent';
import type { NamespaceSpec } from '../topology/workload';
import { createHolder } from './holder';
import type { Policy } from './policy';
import { HOLDER_LABEL } from './sidecar';
import { LABEL } from '../engine/labels';
import { engineIsPodman, resolversOf } from '../engine/podman';

/** Whether the project has pods (holders) or an agent: then the agent must hold the policy. */
export async function usesAgent(docker: Docker, project: string): Promise<boolean> {
  if (await findAgent(docker, project)) return true;
  const holders = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.project}=${project}`, HOLDER_LABEL] },
  });
  return holders.length > 0;
}

const starting = new Map<string, Promise<unknown>>();

/** Starts the project's agent if it is not running; pods opened at once wait for one start. */
async function agentRunning(docker: Docker, project: string, state: AgentState): Promise<void> {
  let pending = starting.get(project);
  if (!pending) {
    pending = (async () => {
      const agent = await findAgent(docker, project);
      if (!agent || agent.State !== 'running') await syncAgent(docker, project, state);
    })().finally(() => starting.delete(project));
    starting.set(project, pending);
  }
  await pending;
}

/**
 * Opens a pod's namespace: the agent runs (with `state`), the holder starts closed, its table
 * (under `policy`, or none: open) loads and is confirmed. Returns the holder's container id,
 * for the app's `NetworkMode: container:<id>`. Throws (and removes the holder) if the table
 * does not load: no app ever joins an unconfirmed namespace.
 */
export async function openNamespace(
  docker: Docker,
  project: string,
  enforcer: Enforcer,
  spec: NamespaceSpec,
  policy: Policy | undefined,
  state: AgentState,
): Promise<string> {
  await agentRunning(docker, project, state);
  return openPodNamespace(docker, project, enforcer, spec, policy);
}

/**
 * The firewall's side of a pod without the agent (for whoever keeps the tables itself, as
 * the firewall's own tests and the bench do): the holder starts closed, its table (under
 * `policy`, or none: open) loads through `enforcer` and is confirmed. Returns the holder's
 * container id; throws (and removes the holder) if the table does not load.
 */
export async function openPodNamespace(
  docker: Docker,
  project: string,
  enforcer: Enforcer,
  spec: NamespaceSpec,
  policy: Policy | undefined,
): Promise<string> {
  const holder = await createHolder(docker, project, spec);
  try {
    const info = await docker.getContainer(holder.id).inspect();
    const networks = info.NetworkSettings.Networks ?? {};
    const addresses: Record<string, string> = {};
    for (const [network, endpoint] of Object.entries(networks))
      if (endpoint.IPAddress) addresses[network] = endpoint.IPAddress;
    const resolvers = resolversOf(await engineIsPodman(docker), networks);
    await enforcer.secure(policy, holder.id, {
      ...spec.workload,
      containerId: `pending:${spec.name}`,
      containerName: spec.name,
      addresses,
      holder: holder.id,
      ...(resolvers.length ? { resolvers } : {}),
    });
  } catch (err) {
    await docker
      .getContainer(holder.id)
      .remove({ force: true })
      .catch(() => undefined);
    throw new Error(
      `the firewall of ${spec.name} did not load, so it was not started: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return holder.id;
}
