/**
 * The firewall agent: one container per project on the engine (as Calico runs Felix on every
 * node), so tables stay current with no MicroLab process alive. It runs MicroLab's own
 * enforcer (dist/agent.cjs, copied in when the container is created; Node is in our base
 * image), talks to the engine through its socket, and:
 *   - holds the policy in force (sent on its input by whoever applies one; kept in its own
 *     file system, so it survives its restarts and the engine's);
 *   - follows the project's events, re-subscribing when the engine connection drops, and
 *     reloads what changed: a pod that (re)starts, a replica that comes or goes;
 *   - restores pods: a killed holder starts again, an app left in a dead namespace restarts
 *     into its holder's new one once its table is loaded (holder.ts).
 * Restart policy `always`: the engine brings it back after a restart; `network none`: it
 * needs no network, only the engine's socket.
 *
 * Why an agent and not self-maintaining sidecars: a table needs every peer's address, so
 * each sidecar would follow every event and compile every table (N watchers for N
 * replicas, N copies of the policy to keep in step); one agent keeps one copy and one
 * subscription, like Felix, and the holders stay a shell loop with no engine access.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { singleFileTar } from '../engine/archive';
import { baseImageName } from '../engine/images';
import { LABEL, labelsFor } from '../engine/labels';
import { engineIsPodman } from '../engine/podman';
import { appRoot } from '../paths';
import type { ApplyReport } from './enforcer';
import type { Policy } from './policy';
import { execIn } from '../engine/exec';
import { PODMAN_INPUT, SidecarChannel } from './sidecar';

export const AGENT_ROLE = 'firewall-agent';
/** On the agent: a hash of its code, so a MicroLab of another build replaces it. */
export const AGENT_BUILD_LABEL = 'io.microlab.agent.build';
const AGENT_DIR = '/opt';
const AGENT_FILE = 'agent.cjs';
/** Where the agent keeps its state, in its own file system (read at start, written on every change). */
export const AGENT_STATE_FILE = '/opt/agent-state.json';
/** Docker's socket, as the engine's own host sees it (where the agent runs). */
const ENGINE_SOCKET = '/var/run/docker.sock';

/**
 * The engine's socket on the engine's host, for the agent to mount: Docker's usual one (also
 * right for an engine in a VM, like Docker Desktop's, whose client socket is forwarded); on
 * Podman, the socket its service was started on, which is the one MicroLab talks to.
 */
async function engineSocket(docker: Docker): Promise<string> {
  const socketPath = (docker.modem as { socketPath?: unknown }).socketPath;
  return typeof socketPath === 'string' && (await engineIsPodman(docker)) ? socketPath : ENGINE_SOCKET;
}

/** What the agent holds: the policy in force (none: every table opens) and how it was applied. */
export interface AgentState {
  policy: Policy | null;
  keepEstablished: boolean;
}

export function agentName(project: string): string {
  return `${project}-firewall-agent`;
}

/** The agent's code, as `npm run build` wrote it (dist/agent.cjs). */
export async function agentBundle(): Promise<Buffer> {
  const file = path.join(appRoot(), 'dist', AGENT_FILE);
  try {
    return await readFile(file);
  } catch {
    throw new Error(`the firewall agent is not built (${AGENT_FILE} is missing): run \`npm run build\``);
  }
}

/** The project's agent container, if any (any state). */
export async function findAgent(docker: Docker, project: string): Promise<Docker.ContainerInfo | undefined> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=${AGENT_ROLE}`] },
  });
  return list[0];
}

/**
 * What the project's running agent holds (its state file), or undefined when no agent runs or
 * its file cannot be read. The agent is what enforces, whichever MicroLab process applied the
 * policy: a process with another state directory (another user, `sudo`) learns from here what
 * is in force.
 */
export async function readAgentState(docker: Docker, project: string): Promise<AgentState | undefined> {
  const agent = await findAgent(docker, project);
  if (agent?.State !== 'running') return undefined;
  const read = await execIn(docker, agent.Id, ['cat', AGENT_STATE_FILE]).catch(() => undefined);
  if (read?.exitCode !== 0) return undefined;
  try {
    const state = JSON.parse(read.output) as Partial<AgentState> | null;
    return state && typeof state === 'object' && 'policy' in state
      ? { policy: state.policy ?? null, keepEstablished: state.keepEstablished ?? false }
      : undefined;
  } catch {
    return undefined;
  }
}

/** This build's agent code and its hash (read once per process: the file does not change under it). */
let bundleRead: Promise<{ bundle: Buffer; build: string }> | undefined;
function thisBuild(): Promise<{ bundle: Buffer; build: string }> {
  bundleRead ??= agentBundle().then((bundle) => ({
    bundle,
    build: createHash('sha256').update(bundle).digest('hex').slice(0, 16),
  }));
  bundleRead.catch(() => (bundleRead = undefined));
  return bundleRead;
}

/**
 * Makes sure the project's agent runs this build's code and holds `state`: creates (or
 * replaces) it when needed, and hands it the state on its input. Resolves with its container
 * id and its report of the apply the state started (see sendToAgent).
 */
export async function syncAgent(
  docker: Docker,
  project: string,
  state: AgentState,
  image = baseImageName(),
): Promise<{ id: string; report?: ApplyReport }> {
  const { bundle, build } = await thisBuild();
  const existing = await findAgent(docker, project);
  if (existing && existing.Labels[AGENT_BUILD_LABEL] === build) {
    if (existing.State !== 'running') await docker.getContainer(existing.Id).start();
    return { id: existing.Id, report: await sendToAgent(docker, existing.Id, state) };
  }
  if (existing)
    await docker
      .getContainer(existing.Id)
      .remove({ force: true })
      .catch(() => undefined);
  await docker
    .getContainer(agentName(project))
    .remove({ force: true })
    .catch(() => undefined);
  const podman = await engineIsPodman(docker);
  const container = await docker.createContainer({
    name: agentName(project),
    Image: image,
    // On Podman its input is a pipe it holds open itself (see PODMAN_INPUT).
    Cmd: podman
      ? ['sh', '-c', `${PODMAN_INPUT}\nexec node ${AGENT_DIR}/${AGENT_FILE}`]
      : ['node', `${AGENT_DIR}/${AGENT_FILE}`],
    Env: [`MICROLAB_PROJECT=${project}`, `MICROLAB_AGENT_STATE=${AGENT_STATE_FILE}`],
    OpenStdin: true,
    StdinOnce: false,
    Labels: { ...labelsFor(project, AGENT_ROLE), [AGENT_BUILD_LABEL]: build },
    HostConfig: {
      NetworkMode: 'none',
      Binds: [`${await engineSocket(docker)}:/var/run/docker.sock`],
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      RestartPolicy: { Name: 'always' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '2m', 'max-file': '2' } },
    },
  });
  await container.putArchive(singleFileTar(AGENT_FILE, bundle), { path: AGENT_DIR });
  await container.putArchive(
    singleFileTar(path.posix.basename(AGENT_STATE_FILE), Buffer.from(JSON.stringify(state))),
    { path: path.posix.dirname(AGENT_STATE_FILE) },
  );
  await container.start();
  // It starts from the state file; handing the state again waits for its apply and its report.
  return { id: container.id, report: await sendToAgent(docker, container.id, state) };
}

/**
 * Hands the agent the policy in force and resolves with its report once it is in force: the
 * agent stored it, loaded every pod's table that changed and cut the established connections
 * it denies (unless `state.keepEstablished`). Undefined when the agent sent no report (one of
 * an older MicroLab). Throws when the agent refused the state or did not answer in 60 s.
 */
export async function sendToAgent(
  docker: Docker,
  agentId: string,
  state: AgentState,
): Promise<ApplyReport | undefined> {
  const channel = new SidecarChannel(docker, agentId);
  try {
    const reply = await channel.send(
      JSON.stringify(state),
      60_000,
      'the firewall agent to put the policy in force',
    );
    return reply ? (JSON.parse(reply) as ApplyReport) : undefined;
  } finally {
    channel.close();
  }
}
